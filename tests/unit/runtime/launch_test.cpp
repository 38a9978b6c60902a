// The pieces create's init and exec's child share (launch.hpp), and
// ProcessSetup's refusal of a phase out of order.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>

#include "runtime/core/error.hpp"
#include "runtime/lifecycle/launch.hpp"
#include "runtime/lifecycle/process_setup.hpp"
#include "runtime/linux/namespaces.hpp"
#include "tests/unit/error_message.hpp"

namespace tether {
namespace {

std::string home_of(const std::string& passwd, uint32_t uid) {
    std::istringstream in(passwd);
    return launch::home_from_passwd(in, uid);
}

TEST(HomeFromPasswd, TheSixthFieldOfTheUidsLine) {
    const std::string passwd =
        "root:x:0:0:root:/root:/bin/sh\n"
        "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
        "app:x:1000:1000::/home/app:/bin/sh\n";
    EXPECT_EQ(home_of(passwd, 0), "/root");
    EXPECT_EQ(home_of(passwd, 1000), "/home/app");
    EXPECT_EQ(home_of(passwd, 100), "/");   // "1000" is not "100"
    EXPECT_EQ(home_of(passwd, 4242), "/");  // no line: runc's default
    EXPECT_EQ(home_of("", 0), "/");
}

TEST(HomeFromPasswd, FirstMatchingLineWinsAndShortLinesAreSkipped) {
    EXPECT_EQ(home_of("a:x:7:7::/first:/bin/sh\nb:x:7:7::/second:/bin/sh\n", 7), "/first");
    EXPECT_EQ(home_of("short:x:7:7\nb:x:7:7::/second:/bin/sh\n", 7), "/second");
    // Six fields, no shell: the home is still there (the two copies this
    // replaces disagreed here: one answered "/").
    EXPECT_EQ(home_of("noshell:x:7:7::/home/noshell\n", 7), "/home/noshell");
}

TEST(SetEnv, ReplacesTheKeyAndOnlyIt) {
    std::vector<std::string> env = {"PATH=/bin", "HTTP_PROXY=old", "HTTP_PROXY_X=keep"};
    launch::set_env(env, "HTTP_PROXY=new");
    EXPECT_EQ(env, (std::vector<std::string>{"PATH=/bin", "HTTP_PROXY_X=keep", "HTTP_PROXY=new"}));
    launch::set_env(env, "EMPTY=");
    EXPECT_EQ(env.back(), "EMPTY=");
}

// In a child: fds below 3 + preserve_fds become inheritable except ours, and
// everything from there on is close-on-exec.
TEST(MarkFdsForExec, PreservedInheritableOursAndTheRestCloseOnExec) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        for (int fd = 3; fd < 64; ++fd) ::close(fd);
        int a = ::open("/", O_PATH | O_CLOEXEC);  // 3: preserved
        int ours = ::open("/", O_PATH | O_CLOEXEC);  // 4: ours, in the preserved range
        int above = ::open("/", O_PATH);  // 5: beyond the preserved range
        if (a != 3 || ours != 4 || above != 5) ::_exit(10);
        launch::mark_fds_for_exec(2, {ours});
        bool ok = !(::fcntl(a, F_GETFD) & FD_CLOEXEC) && (::fcntl(ours, F_GETFD) & FD_CLOEXEC) &&
                  (::fcntl(above, F_GETFD) & FD_CLOEXEC);
        ::_exit(ok ? 0 : 11);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

spec::Config minimal_config() {
    spec::Config config;
    config.process = spec::Process{};
    config.process->args = {"true"};
    return config;
}

TEST(ProcessSetupOrder, APhaseOutOfOrderIsRefusedBeforeItActs) {
    spec::Config config = minimal_config();
    os::NamespacePlan namespaces;
    ProcessSetup setup("order-test", config, namespaces, /*no_new_keyring=*/true);
    // The credential switch first would run the filters after it: refused,
    // and refused before it changes anything of ours.
    uid_t uid = ::getuid();
    EXPECT_THROW(setup.switch_credentials(), Error);
    EXPECT_EQ(::getuid(), uid);
    EXPECT_THROW(setup.load_filters_late(), Error);
}

// The init and exec open a procfs of their own only for a value to write
// there; an oomScoreAdj without one is refused, never written elsewhere.
TEST(ProcessSetupOrder, OomScoreAdjWithoutTheRuntimesProcfsIsRefused) {
    spec::Config config = minimal_config();
    config.process->oom_score_adj = 100;
    os::NamespacePlan namespaces;
    ProcessSetup setup("oom-test", config, namespaces, /*no_new_keyring=*/true);
    EXPECT_NE(test_support::error_message<Error>([&] { setup.before_credentials(nullptr); })
                  .find("process.oomScoreAdj"),
              std::string::npos);
}

TEST(ProcessSetupOrder, NoPhaseIsSkippedOrRepeated) {
    spec::Config config = minimal_config();
    os::NamespacePlan namespaces;
    ProcessSetup setup("order-test", config, namespaces, /*no_new_keyring=*/true);
    auto [parent, child] = os::SyncChannel::make_pair();
    setup.before_credentials(nullptr);  // nothing to apply in this config, no procfs needed
    EXPECT_THROW(setup.before_credentials(nullptr), Error);
    EXPECT_THROW(setup.load_filters_with_privileges(child), Error);  // apply_sandbox skipped
    setup.apply_sandbox(child);                                      // no sandbox: nothing
    setup.load_filters_with_privileges(child);                       // no profile: nothing
    EXPECT_THROW(setup.load_filters_late(), Error);                  // the credential switch skipped
}

}  // namespace
}  // namespace tether
