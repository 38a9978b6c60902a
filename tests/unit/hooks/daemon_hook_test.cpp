// tether-netd started as a real prestart hook (the built binary, state JSON on
// stdin) for a sleeping child standing in for the container's init.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <poll.h>
#include <unistd.h>

#include <climits>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "hooks/protocol.hpp"
#include "spec/state_parse.hpp"
#include "tests/unit/scratch_dir.hpp"

namespace tether::hooks {
namespace {

std::string netd_binary() {
    char self[PATH_MAX] = {};
    ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    std::string dir = std::string(self, n > 0 ? static_cast<size_t>(n) : 0);
    return dir.substr(0, dir.rfind('/')) + "/tether-netd";
}

struct HookResult {
    int status = -1;
    std::string output;
};

// Runs tether-netd with `state` on stdin; returns its exit status and stderr.
HookResult run_hook(const std::string& state, const std::vector<std::string>& args) {
    int in[2], err[2];
    EXPECT_EQ(::pipe2(in, O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(err, O_CLOEXEC), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(in[0], 0);
        ::dup2(err[1], 2);
        std::vector<char*> argv;
        std::string binary = netd_binary();
        argv.push_back(binary.data());
        for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(binary.c_str(), argv.data());
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(err[1]);
    [[maybe_unused]] auto w = ::write(in[1], state.data(), state.size());
    ::close(in[1]);
    HookResult result;
    char buffer[512];
    ssize_t n;
    // The daemon keeps no copy of this pipe (stdio goes to /dev/null), so EOF
    // comes when the hook exits.
    while ((n = ::read(err[0], buffer, sizeof buffer)) > 0) result.output.append(buffer, static_cast<size_t>(n));
    ::close(err[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

// The fake init is a child of the test, in the test's own cgroup: no cgroup
// of its own for the socket programs, so the daemon runs with the supervisor
// alone (bestEffort); without it the hook refuses (KernelEnforcementOrRefusal).
std::string state_json(pid_t pid, bool best_effort = true) {
    return R"({"ociVersion":"1.2.0","id":"daemon-test","status":"creating","pid":)" + std::to_string(pid) +
           R"(,"bundle":"/nonexistent","annotations":{"run.tether.network.allowLocalOutboundPorts":"5432")" +
           (best_effort ? R"(,"run.tether.sandbox.bestEffort":"true")" : "") + "}}";
}

bool exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

// Waits (bounded, generously) until process `pid` is gone.
bool wait_gone(pid_t pid) {
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) return errno == ESRCH;
    pollfd p{pidfd, POLLIN, 0};
    int rc = ::poll(&p, 1, 20000);
    ::close(pidfd);
    return rc == 1;
}

class DaemonHook : public ::testing::Test {
protected:
    void SetUp() override {
        init_ = ::fork();
        if (init_ == 0) {
            ::pause();
            ::_exit(0);
        }
    }
    void TearDown() override {
        if (init_ > 0) {
            ::kill(init_, SIGKILL);
            ::waitpid(init_, nullptr, 0);
        }
    }

    pid_t daemon_pid() {
        std::ifstream in(dir_ + "/netd.pid");
        pid_t pid = 0;
        in >> pid;
        return pid;
    }

    test_support::ScratchDir scratch_{"netd"};
    const std::string dir_ = scratch_.path();
    pid_t init_ = -1;
};

TEST_F(DaemonHook, DaemonisesServesTheControlSocketAndExitsWithTheInit) {
    HookResult hook = run_hook(state_json(init_), {"--runtime", "tether", "--state-dir", dir_});
    ASSERT_EQ(hook.status, 0) << hook.output;
    ASSERT_TRUE(exists(dir_ + "/netd.sock"));
    pid_t daemon = daemon_pid();
    ASSERT_GT(daemon, 0);
    EXPECT_EQ(::kill(daemon, 0), 0);
    EXPECT_NE(::getsid(daemon), ::getsid(0)) << "the daemon has its own session";

    UniqueFd control = protocol::connect_control_socket(dir_);
    EXPECT_EQ(protocol::send_request(control.get(), protocol::kPing), "ok");
    EXPECT_EQ(protocol::send_request(control.get(), protocol::kProxyPort), "0");
    // The fake init has no cgroup of its own: the supervisor decides (bestEffort).
    EXPECT_EQ(protocol::send_request(control.get(), protocol::kEnforcement), "supervisor");
    EXPECT_EQ(protocol::send_request(control.get(), protocol::kFlush), "ok");
    EXPECT_EQ(protocol::send_request(control.get(), "NONSENSE"), "error unknown request");
    EXPECT_EQ(protocol::send_request(control.get(), protocol::kListener).rfind("error ", 0), 0u)
        << "LISTENER without an fd is refused";
    control.reset();

    ::kill(init_, SIGKILL);
    ::waitpid(init_, nullptr, 0);
    init_ = -1;
    EXPECT_TRUE(wait_gone(daemon));
    EXPECT_FALSE(exists(dir_ + "/netd.pid"));
    EXPECT_FALSE(exists(dir_ + "/netd.sock"));
}

TEST_F(DaemonHook, StopEndsTheDaemon) {
    HookResult hook = run_hook(state_json(init_), {"--runtime", "tether", "--state-dir", dir_});
    ASSERT_EQ(hook.status, 0) << hook.output;
    pid_t daemon = daemon_pid();
    UniqueFd control = protocol::connect_control_socket(dir_);
    EXPECT_EQ(protocol::send_request(control.get(), protocol::kStop), "ok");
    EXPECT_TRUE(wait_gone(daemon));
    EXPECT_FALSE(exists(dir_ + "/netd.pid"));
}

TEST_F(DaemonHook, SigtermEndsTheDaemon) {
    HookResult hook = run_hook(state_json(init_), {"--runtime", "tether", "--state-dir", dir_});
    ASSERT_EQ(hook.status, 0) << hook.output;
    pid_t daemon = daemon_pid();
    ASSERT_GT(daemon, 0);
    ::kill(daemon, SIGTERM);
    EXPECT_TRUE(wait_gone(daemon));
}

TEST_F(DaemonHook, WithoutKernelEnforcementTheHookRefusesAndNamesWhy) {
    HookResult hook = run_hook(state_json(init_, false), {"--runtime", "tether", "--state-dir", dir_});
    EXPECT_EQ(hook.status, 1);
    EXPECT_NE(hook.output.find("kernel enforcement is unavailable"), std::string::npos) << hook.output;
    EXPECT_NE(hook.output.find("run.tether.sandbox.bestEffort=true"), std::string::npos) << hook.output;
    EXPECT_FALSE(exists(dir_ + "/netd.pid"));
    EXPECT_FALSE(exists(dir_ + "/netd.sock"));
}

TEST_F(DaemonHook, BadStateOrBadPolicyFailsTheHookWithAMessage) {
    HookResult bad_json = run_hook("{not json", {"--state-dir", dir_});
    EXPECT_EQ(bad_json.status, 1);
    EXPECT_NE(bad_json.output.find("invalid JSON"), std::string::npos) << bad_json.output;

    std::string bad_policy = R"({"ociVersion":"1.2.0","id":"x","status":"creating","pid":)" + std::to_string(init_) +
                             R"(,"annotations":{"run.tether.network.allowLocalOutboundPorts":"70000"}})";
    HookResult policy = run_hook(bad_policy, {"--state-dir", dir_});
    EXPECT_EQ(policy.status, 1);
    EXPECT_NE(policy.output.find("run.tether.network.allowLocalOutboundPorts"), std::string::npos) << policy.output;
    EXPECT_FALSE(exists(dir_ + "/netd.pid"));
}

TEST(DaemonStateParse, ReadsTheFieldsAHookNeedsAndNamesBadOnes) {
    auto state = spec::parse_state(
        R"({"ociVersion":"1.2.0","id":"c1","status":"created","pid":42,"bundle":"/b","annotations":{"a":"b"}})");
    EXPECT_EQ(state.id, "c1");
    EXPECT_EQ(state.pid, 42);
    EXPECT_EQ(state.bundle, "/b");
    EXPECT_EQ(state.annotations.at("a"), "b");
    try {
        spec::parse_state(R"({"ociVersion":"1.2.0","id":"c1","status":"created","pid":"42"})");
        FAIL() << "a string pid must be refused";
    } catch (const spec::ParseError& e) {
        EXPECT_EQ(std::string(e.what()).rfind("pid:", 0), 0u) << e.what();
    }
    EXPECT_THROW(spec::parse_state(R"({"ociVersion":"1.2.0","status":"created"})"), spec::ParseError);
}

}  // namespace
}  // namespace tether::hooks
