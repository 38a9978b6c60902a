// Filters loaded for real in a forked child: the errno a denied syscall
// returns, every comparison operator, the notify listener answered by the
// parent, and the real-world profiles of podman and Docker.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <cerrno>
#include <filesystem>

#include "child_process.hpp"
#include "runtime/security/seccomp_filter.hpp"
#include "runtime/security/seccomp_listener.hpp"
#include "seccomp_profile_json.hpp"
#include "receive_with_fd.hpp"
#include "seccomp_rules.hpp"
#include "tests/unit/scratch_dir.hpp"

namespace tether::security {
namespace {

using test::Child;
using test::run_in_child;
using ::testing::HasSubstr;

using test::allow_by_default;
using test::rule;

void load(const spec::Seccomp& seccomp) {
    Warnings warnings;
    auto filter = build_seccomp_filter(seccomp, warnings);
    load_seccomp_filter(filter);
}

TEST(SeccompBehaviour, DeniedMkdirFailsWithTheConfiguredErrno) {
    const test_support::ScratchDir scratch("security");
    const std::string& dir = scratch.path();
    auto result = run_in_child([&](std::string& out) {
        load(allow_by_default({rule({"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO", {}, 123)}));
        int rc = mkdir((dir + "/denied").c_str(), 0755);
        out = std::to_string(rc) + " " + std::to_string(errno);
        return 0;
    });
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_EQ(result.output, "-1 123");
    EXPECT_FALSE(std::filesystem::exists(dir + "/denied"));
}

TEST(SeccompBehaviour, DefaultErrnoRetAppliesToUnlistedSyscalls) {
    auto result = run_in_child([&](std::string& out) {
        spec::Seccomp s = allow_by_default({});
        s.default_action = "SCMP_ACT_ERRNO";
        s.default_errno_ret = 77;
        // Everything the child still needs to report back and exit.
        s.syscalls = {rule({"write", "exit_group", "exit", "brk", "mmap", "munmap", "getpid"},
                           "SCMP_ACT_ALLOW")};
        load(s);
        long pid_ok = syscall(SYS_getpid) > 0;
        long rc = syscall(SYS_umask, 022);
        out = std::to_string(pid_ok) + " " + std::to_string(rc) + " " + std::to_string(errno);
        return 0;
    });
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_EQ(result.output, "1 -1 77");
}

// umask(2) takes one integer and always succeeds, so "denied" (ERRNO 123) vs
// "allowed" shows exactly which values a condition matched.
std::string denied_umask_values(spec::SeccompArg arg, std::vector<unsigned> values) {
    auto result = run_in_child([&](std::string& out) {
        load(allow_by_default({rule({"umask"}, "SCMP_ACT_ERRNO", {arg}, 123)}));
        for (unsigned v : values) {
            long rc = syscall(SYS_umask, v);
            out += (rc == -1 && errno == 123) ? 'd' : 'a';
        }
        return 0;
    });
    return result.exit_code == 0 ? result.output : "child failed: " + result.output;
}

TEST(SeccompBehaviour, EveryComparisonOperator) {
    EXPECT_EQ(denied_umask_values({0, 022, 0, "SCMP_CMP_EQ"}, {022, 023, 0}), "daa");
    EXPECT_EQ(denied_umask_values({0, 022, 0, "SCMP_CMP_NE"}, {022, 023, 0}), "add");
    EXPECT_EQ(denied_umask_values({0, 022, 0, "SCMP_CMP_LT"}, {021, 022, 023}), "daa");
    EXPECT_EQ(denied_umask_values({0, 022, 0, "SCMP_CMP_LE"}, {021, 022, 023}), "dda");
    EXPECT_EQ(denied_umask_values({0, 022, 0, "SCMP_CMP_GT"}, {021, 022, 023}), "aad");
    EXPECT_EQ(denied_umask_values({0, 022, 0, "SCMP_CMP_GE"}, {021, 022, 023}), "add");
    // MASKED_EQ: (arg & value) == valueTwo.
    EXPECT_EQ(denied_umask_values({0, 070, 020, "SCMP_CMP_MASKED_EQ"}, {020, 027, 077, 002}),
              "ddaa");
}

TEST(SeccompBehaviour, ConditionsOnDistinctArgumentsMustAllMatch) {
    // socket(AF_UNIX, SOCK_DGRAM) is denied; AF_UNIX+STREAM and
    // AF_INET+DGRAM are not.
    auto result = run_in_child([&](std::string& out) {
        load(allow_by_default({rule({"socket"}, "SCMP_ACT_ERRNO",
                                    {{0, AF_UNIX, 0, "SCMP_CMP_EQ"},
                                     {1, SOCK_DGRAM, 0, "SCMP_CMP_EQ"}},
                                    99)}));
        auto probe = [&](int domain, int type) {
            int fd = socket(domain, type, 0);
            out += fd < 0 && errno == 99 ? 'd' : 'a';
            if (fd >= 0) close(fd);
        };
        probe(AF_UNIX, SOCK_DGRAM);
        probe(AF_UNIX, SOCK_STREAM);
        probe(AF_INET, SOCK_DGRAM);
        return 0;
    });
    EXPECT_EQ(result.output, "daa");
}

TEST(SeccompBehaviour, ConditionsOnTheSameArgumentMatchEither) {
    // runc's rule: two conditions on a0 become two rules (OR).
    auto result = run_in_child([&](std::string& out) {
        load(allow_by_default({rule({"umask"}, "SCMP_ACT_ERRNO",
                                    {{0, 022, 0, "SCMP_CMP_EQ"}, {0, 077, 0, "SCMP_CMP_EQ"}},
                                    123)}));
        for (unsigned v : {022u, 077u, 023u}) {
            long rc = syscall(SYS_umask, v);
            out += (rc == -1 && errno == 123) ? 'd' : 'a';
        }
        return 0;
    });
    EXPECT_EQ(result.output, "dda");
}

TEST(SeccompBehaviour, FlagsAreAcceptedByTheKernel) {
    auto result = run_in_child([&](std::string& out) {
        spec::Seccomp s = allow_by_default({rule({"mkdir"}, "SCMP_ACT_ERRNO", {}, 5)});
        s.flags = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                   "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
        load(s);
        out = mkdir("/nonexistent-dir/x", 0) == -1 && errno == 5 ? "loaded" : "not loaded";
        return 0;
    });
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_EQ(result.output, "loaded");
}

// Listening unix socket in a fresh directory, removed with it.
struct ListenSocket {
    test_support::ScratchDir scratch{"security"};
    std::string path = scratch.path() + "/listener.sock";
    int fd = -1;
    ListenSocket() {
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strcpy(address.sun_path, path.c_str());
        bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
        listen(fd, 1);
    }
    ~ListenSocket() { close(fd); }
};

// Accepts one connection and receives the message and the one fd with it.
std::pair<std::string, int> receive_fd_and_text(int listen_fd) {
    int conn = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) return {"accept failed", -1};
    test::ReceivedWithFd received = test::receive_to_eof_with_fd(conn);
    close(conn);
    return {received.text, received.fd};
}

TEST(SeccompBehaviour, NotifyGivesAListenerTheSupervisorAnswers) {
    ListenSocket listener;
    auto child = Child::spawn([&](std::string& out) {
        Warnings warnings;
        auto filter = build_seccomp_filter(
            allow_by_default({rule({"mkdir"}, "SCMP_ACT_NOTIFY")}), warnings);
        UniqueFd listener_fd = load_seccomp_filter(filter);
        if (!listener_fd) {
            out = "no listener fd";
            return 1;
        }
        send_seccomp_listener(listener.path, listener_fd.get(), "{\"ociVersion\":\"1.2.0\"}");
        listener_fd.reset();
        // Blocks until the supervisor (the test) answers.
        int rc = mkdir("/tmp/tether-notified", 0700);
        out = std::to_string(rc) + " " + std::to_string(errno);
        return 0;
    });

    auto [text, notify_fd] = receive_fd_and_text(listener.fd);
    ASSERT_GE(notify_fd, 0) << text;
    EXPECT_EQ(text, "{\"ociVersion\":\"1.2.0\"}");

    seccomp_notif* request = nullptr;
    seccomp_notif_resp* response = nullptr;
    ASSERT_EQ(seccomp_notify_alloc(&request, &response), 0);
    ASSERT_EQ(seccomp_notify_receive(notify_fd, request), 0);
    EXPECT_EQ(request->data.nr, SYS_mkdir);
    EXPECT_EQ(static_cast<pid_t>(request->pid), child.pid());
    response->id = request->id;
    response->error = -EXDEV;
    response->val = 0;
    response->flags = 0;
    ASSERT_EQ(seccomp_notify_respond(notify_fd, response), 0);
    seccomp_notify_free(request, response);
    close(notify_fd);

    auto result = child.wait();
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_EQ(result.output, "-1 " + std::to_string(EXDEV));
}

TEST(SeccompBehaviour, WaitKillableRecvIsPassedWithAListener) {
    auto result = run_in_child([&](std::string& out) {
        spec::Seccomp s = allow_by_default({rule({"sync"}, "SCMP_ACT_NOTIFY")});
        s.flags = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", "SECCOMP_FILTER_FLAG_TSYNC"};
        Warnings warnings;
        auto filter = build_seccomp_filter(s, warnings);
        UniqueFd fd = load_seccomp_filter(filter);
        out = fd ? "listener" : "none";
        return 0;
    });
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_EQ(result.output, "listener");
}

TEST(SeccompBehaviour, NoListenerWithoutNotify) {
    auto result = run_in_child([&](std::string& out) {
        Warnings warnings;
        auto filter = build_seccomp_filter(allow_by_default({rule({"sync"}, "SCMP_ACT_ERRNO")}),
                                           warnings);
        out = load_seccomp_filter(filter) ? "listener" : "none";
        return 0;
    });
    EXPECT_EQ(result.output, "none");
}

TEST(SeccompBehaviour, LoadingDoesNotSetNoNewPrivs) {
    // podman sends no noNewPrivileges: a setuid binary in the container must
    // still work, so loading seccomp must not set no_new_privs by itself.
    auto result = run_in_child([&](std::string& out) {
        load(allow_by_default({rule({"mkdir"}, "SCMP_ACT_ERRNO")}));
        out = std::to_string(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
        return 0;
    });
    EXPECT_EQ(result.output, "0");
}

TEST(SeccompProfiles, PodmanDefaultProfileLoadsAndEnforces) {
    const std::string path = "/usr/share/containers/seccomp.json";
    if (!std::filesystem::exists(path))
        GTEST_SKIP() << path << " missing: apt-get install golang-github-containers-common";
    auto profile = test::seccomp_from_json(
        test::expand_profile_template(test::read_json_file(path), test::default_container_caps()));
    ASSERT_EQ(profile.default_errno_ret, std::optional<uint32_t>(ENOSYS));
    const test_support::ScratchDir scratch("security");
    const std::string& dir = scratch.path();
    auto result = run_in_child([&](std::string& out) {
        load(profile);
        int made = mkdir((dir + "/allowed").c_str(), 0755);
        long acct_rc = syscall(SYS_acct, nullptr);  // needs CAP_SYS_PACCT: EPERM
        int acct_errno = errno;
        long afs_rc = syscall(SYS_afs_syscall);  // not in the profile: default ENOSYS
        int afs_errno = errno;
        out = std::to_string(made) + " " + std::to_string(acct_rc) + "/" +
              std::to_string(acct_errno) + " " + std::to_string(afs_rc) + "/" +
              std::to_string(afs_errno);
        return 0;
    });
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_EQ(result.output, "0 -1/" + std::to_string(EPERM) + " -1/" + std::to_string(ENOSYS));
    EXPECT_TRUE(std::filesystem::is_directory(dir + "/allowed"));
}

TEST(SeccompProfiles, DockerDefaultProfileLoadsAndEnforces) {
    auto fixture = std::filesystem::path(__FILE__).parent_path() / "fixtures" /
                   "docker_default_x86_64_trimmed.json";
    auto profile = test::seccomp_from_json(test::read_json_file(fixture));
    auto result = run_in_child([&](std::string& out) {
        load(profile);
        int unix_fd = socket(AF_UNIX, SOCK_STREAM, 0);
        int vsock_fd = socket(40 /* AF_VSOCK */, SOCK_STREAM, 0);
        int vsock_errno = errno;
        long clone3_rc = syscall(SYS_clone3, nullptr, 0);
        int clone3_errno = errno;
        out = std::string(unix_fd >= 0 ? "unix-ok" : "unix-denied") + " " +
              std::to_string(vsock_fd) + "/" + std::to_string(vsock_errno) + " " +
              std::to_string(clone3_rc) + "/" + std::to_string(clone3_errno);
        return 0;
    });
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_EQ(result.output,
              "unix-ok -1/" + std::to_string(EPERM) + " -1/" + std::to_string(ENOSYS));
}

}  // namespace
}  // namespace tether::security
