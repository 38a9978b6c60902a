// rlimits, no_new_privs, oom_score_adj, personality and the session keyring,
// each applied in a forked child and read back the way a user would.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/keyctl.h>
#include <sys/capability.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include <fstream>
#include <sstream>

#include "child_process.hpp"
#include "runtime/core/error.hpp"
#include "runtime/security/process_attributes.hpp"
#include "tests/unit/error_message.hpp"

namespace tether::security {
namespace {

using test::run_in_child;
using ::testing::HasSubstr;

std::string read_file(const char* path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string error_of(const std::function<void()>& fn) {
    return test_support::error_message<Error>(fn);
}

TEST(Rlimits, AppliedInOrder) {
    auto result = run_in_child([&](std::string& out) {
        apply_rlimits({{"RLIMIT_NOFILE", 100, 200}, {"RLIMIT_CORE", 0, 0}});
        rlimit nofile{}, core{};
        getrlimit(RLIMIT_NOFILE, &nofile);
        getrlimit(RLIMIT_CORE, &core);
        out = std::to_string(nofile.rlim_cur) + "/" + std::to_string(nofile.rlim_max) + " " +
              std::to_string(core.rlim_cur) + "/" + std::to_string(core.rlim_max);
        return 0;
    });
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_EQ(result.output, "100/200 0/0");
}

TEST(Rlimits, SoftAboveHardNamesTheLimit) {
    auto message = error_of([] { apply_rlimits({{"RLIMIT_NPROC", 300, 200}}); });
    EXPECT_THAT(message, HasSubstr("RLIMIT_NPROC (soft 300, hard 200)"));
    EXPECT_THAT(message, HasSubstr("soft limit is above the hard limit"));
}

TEST(Rlimits, UnknownTypeIsNamed) {
    EXPECT_THAT(error_of([] { apply_rlimits({{"RLIMIT_BANANAS", 1, 1}}); }),
                HasSubstr("\"RLIMIT_BANANAS\""));
}

TEST(Rlimits, HardLimitAboveTheRuntimesOwnFailsWithoutCapSysResource) {
    auto result = run_in_child([&](std::string& out) {
        rlimit lowered{64, 128};
        if (setrlimit(RLIMIT_NOFILE, &lowered) != 0) return 1;
        // Drop CAP_SYS_RESOURCE: now the hard limit can only go down.
        cap_t caps = cap_get_proc();
        cap_value_t resource = CAP_SYS_RESOURCE;
        cap_set_flag(caps, CAP_EFFECTIVE, 1, &resource, CAP_CLEAR);
        if (cap_set_proc(caps) != 0) return 2;
        cap_free(caps);
        out = error_of([] { apply_rlimits({{"RLIMIT_NOFILE", 64, 4096}}); });
        return 0;
    });
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_THAT(result.output, HasSubstr("RLIMIT_NOFILE (soft 64, hard 4096)"));
    EXPECT_THAT(result.output, HasSubstr("above the runtime's own hard limit 128"));
    EXPECT_THAT(result.output, HasSubstr("CAP_SYS_RESOURCE"));
}

TEST(NoNewPrivileges, IsSet) {
    auto result = run_in_child([&](std::string& out) {
        set_no_new_privileges();
        out = read_file("/proc/self/status");
        return 0;
    });
    EXPECT_THAT(result.output, HasSubstr("NoNewPrivs:\t1"));
}

TEST(OomScoreAdj, IsWritten) {
    auto result = run_in_child([&](std::string& out) {
        write_oom_score_adj(500, ProcFs::open());  // raising needs no privilege
        out = read_file("/proc/self/oom_score_adj");
        return 0;
    });
    EXPECT_EQ(result.output, "500\n");
    EXPECT_THAT(error_of([] { write_oom_score_adj(1001, ProcFs::open()); }), HasSubstr("process.oomScoreAdj"));
}

TEST(Personality, ValuesForDomainsAndFlags) {
    EXPECT_EQ(personality_value({"LINUX", {}}), static_cast<unsigned long>(PER_LINUX));
    EXPECT_EQ(personality_value({"LINUX32", {"ADDR_NO_RANDOMIZE"}}),
              static_cast<unsigned long>(PER_LINUX32) | static_cast<unsigned long>(ADDR_NO_RANDOMIZE));
    EXPECT_THAT(error_of([] { personality_value({"WINDOWS", {}}); }), HasSubstr("\"WINDOWS\""));
    EXPECT_THAT(error_of([] { personality_value({"LINUX", {"FAST"}}); }), HasSubstr("\"FAST\""));
}

TEST(Personality, Linux32ChangesTheMachineUnameReports) {
    auto result = run_in_child([&](std::string& out) {
        apply_personality({"LINUX32", {}});
        utsname name{};
        uname(&name);
        out = name.machine;
        return 0;
    });
    EXPECT_EQ(result.output, "i686");
}

TEST(SessionKeyring, ContainerGetsItsOwnNamedSearchableKeyring) {
    auto describe = []() {
        char text[256] = {};
        long n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, KEY_SPEC_SESSION_KEYRING, text, sizeof text, 0);
        return n < 0 ? std::string("error ") + std::to_string(errno) : std::string(text);
    };
    auto result = run_in_child([&](std::string& out) {
        long before = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 1, 0, 0);
        join_session_keyring("web-1");
        long after = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0, 0, 0);
        out = (before != after ? "new " : "same ") + describe();
        return 0;
    });
    ASSERT_EQ(result.exit_code, 0) << result.output;
    EXPECT_THAT(result.output, HasSubstr("new keyring;"));
    EXPECT_THAT(result.output, ::testing::EndsWith(";_ses.web-1"));
    // type;uid;gid;perm;name: the owner may search it.
    auto perm_start = result.output.find(';', result.output.find(';', result.output.find(';') + 1) + 1) + 1;
    unsigned perm = std::stoul(result.output.substr(perm_start, 8), nullptr, 16);
    EXPECT_NE(perm & 0x00080000u, 0u) << result.output;
}

}  // namespace
}  // namespace tether::security
