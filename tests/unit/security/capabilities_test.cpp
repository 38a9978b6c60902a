// Capability planning (names -> masks) as data, then the whole credential
// sequence applied in a forked child that becomes uid 1000.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fstream>
#include <map>
#include <sstream>

#include "child_process.hpp"
#include "runtime/core/error.hpp"
#include "runtime/security/capabilities.hpp"
#include "tests/unit/error_message.hpp"

namespace tether::security {
namespace {

using test::run_in_child;
using ::testing::HasSubstr;

constexpr uint64_t bit(int cap) { return uint64_t{1} << cap; }

std::string plan_error(const spec::Capabilities& caps) {
    Warnings warnings;
    return test_support::error_message<Error>([&] { plan_capabilities(caps, 40, warnings); });
}

TEST(CapabilityPlan, NamesBecomeBits) {
    spec::Capabilities caps;
    caps.bounding = {"CAP_CHOWN", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"};
    caps.effective = {"CAP_NET_ADMIN"};
    caps.permitted = {"CAP_NET_ADMIN", "CAP_CHOWN"};
    caps.inheritable = {"CAP_CHOWN"};
    caps.ambient = {"CAP_CHOWN"};
    Warnings warnings;
    auto plan = plan_capabilities(caps, 40, warnings);
    EXPECT_EQ(plan.bounding, bit(CAP_CHOWN) | bit(CAP_NET_ADMIN) | bit(CAP_SYS_ADMIN));
    EXPECT_EQ(plan.effective, bit(CAP_NET_ADMIN));
    EXPECT_EQ(plan.permitted, bit(CAP_NET_ADMIN) | bit(CAP_CHOWN));
    EXPECT_EQ(plan.inheritable, bit(CAP_CHOWN));
    EXPECT_EQ(plan.ambient, bit(CAP_CHOWN));
    EXPECT_TRUE(warnings.empty());
}

TEST(CapabilityPlan, NoCapabilityAtAllIsAnErrorNamingIt) {
    spec::Capabilities caps;
    caps.permitted = {"CAP_CHOWN", "CAP_BOGUS"};
    EXPECT_THAT(plan_error(caps), HasSubstr("process.capabilities.permitted"));
    EXPECT_THAT(plan_error(caps), HasSubstr("\"CAP_BOGUS\""));
    caps.permitted = {"cap_chown"};  // libcap would accept it; the spec does not
    EXPECT_THAT(plan_error(caps), HasSubstr("\"cap_chown\""));
    caps.permitted = {"12"};
    EXPECT_THAT(plan_error(caps), HasSubstr("\"12\""));
}

TEST(CapabilityPlan, CapabilityTheKernelLacksIsSkippedWithAWarning) {
    spec::Capabilities caps;
    caps.bounding = {"CAP_CHOWN", "CAP_CHECKPOINT_RESTORE"};  // 40
    Warnings warnings;
    auto plan = plan_capabilities(caps, 39, warnings);  // a 5.8 kernel
    EXPECT_EQ(plan.bounding, bit(CAP_CHOWN));
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_THAT(warnings[0], HasSubstr("CAP_CHECKPOINT_RESTORE"));
}

TEST(CapabilityPlan, EffectiveOutsidePermittedIsRefused) {
    spec::Capabilities caps;
    caps.effective = {"CAP_KILL"};
    EXPECT_THAT(plan_error(caps), HasSubstr("CAP_KILL is not in the permitted set"));
}

TEST(CapabilityPlan, AmbientNeedsPermittedAndInheritable) {
    spec::Capabilities caps;
    caps.permitted = {"CAP_KILL", "CAP_CHOWN"};
    caps.inheritable = {"CAP_CHOWN"};
    caps.ambient = {"CAP_KILL", "CAP_CHOWN"};
    Warnings warnings;
    auto plan = plan_capabilities(caps, 40, warnings);
    EXPECT_EQ(plan.ambient, bit(CAP_CHOWN));
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_THAT(warnings[0], HasSubstr("CAP_KILL"));
}

TEST(CapabilityPlan, KernelLastCapIsRead) {
    std::ifstream in("/proc/sys/kernel/cap_last_cap");
    int expected = -1;
    in >> expected;
    EXPECT_EQ(kernel_last_cap(), expected);
}

// "CapEff:\t0000000000000400" -> {"CapEff": 0x400}, plus Uid/Gid/Groups lines.
std::map<std::string, std::string> status_fields(const std::string& status) {
    std::map<std::string, std::string> fields;
    std::istringstream in(status);
    std::string line;
    while (std::getline(in, line)) {
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        auto value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
        fields[line.substr(0, colon)] = value;
    }
    return fields;
}

uint64_t mask(const std::map<std::string, std::string>& fields, const std::string& key) {
    auto it = fields.find(key);
    return it == fields.end() ? ~uint64_t{0} : std::stoull(it->second, nullptr, 16);
}

std::string read_file(const char* path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

struct Uid1000 {
    spec::Capabilities caps;
    spec::User user;
    Uid1000() {
        caps.bounding = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
        caps.permitted = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
        caps.effective = {"CAP_KILL", "CAP_NET_BIND_SERVICE"};
        caps.inheritable = {"CAP_NET_BIND_SERVICE"};
        caps.ambient = {"CAP_NET_BIND_SERVICE"};
        user.uid = 1000;
        user.gid = 1000;
        user.additional_gids = {10, 20};
        user.umask = 027;
    }
};

TEST(Credentials, NonRootUserKeepsExactlyTheListedCapabilities) {
    Uid1000 config;
    auto result = run_in_child([&](std::string& out) {
        Warnings warnings;
        auto plan = plan_capabilities(config.caps, warnings);
        finalize_credentials(plan, config.user, true);
        mode_t old = umask(0);
        out = read_file("/proc/self/status") + "Umask2:\t" + std::to_string(old) + "\n";
        return 0;
    });
    ASSERT_EQ(result.exit_code, 0) << result.output;
    auto fields = status_fields(result.output);
    EXPECT_EQ(fields["Uid"], "1000\t1000\t1000\t1000");
    EXPECT_EQ(fields["Gid"], "1000\t1000\t1000\t1000");
    EXPECT_EQ(fields["Groups"], "10 20");
    EXPECT_EQ(mask(fields, "CapBnd"), bit(CAP_CHOWN) | bit(CAP_KILL) | bit(CAP_NET_BIND_SERVICE));
    EXPECT_EQ(mask(fields, "CapPrm"), bit(CAP_CHOWN) | bit(CAP_KILL) | bit(CAP_NET_BIND_SERVICE));
    EXPECT_EQ(mask(fields, "CapEff"), bit(CAP_KILL) | bit(CAP_NET_BIND_SERVICE));
    EXPECT_EQ(mask(fields, "CapInh"), bit(CAP_NET_BIND_SERVICE));
    EXPECT_EQ(mask(fields, "CapAmb"), bit(CAP_NET_BIND_SERVICE));
    EXPECT_EQ(fields["Umask2"], std::to_string(027));
}

TEST(Credentials, AmbientCapabilitiesSurviveExecForANonRootUser) {
    // What the container's process sees: after execve of an ordinary binary a
    // non-root user keeps only the ambient capabilities.
    Uid1000 config;
    auto result = run_in_child([&](std::string& out) {
        Warnings warnings;
        finalize_credentials(plan_capabilities(config.caps, warnings), config.user, true);
        int fds[2];
        if (pipe(fds) != 0) return 1;
        pid_t pid = fork();
        if (pid == 0) {
            dup2(fds[1], 1);
            execl("/bin/cat", "cat", "/proc/self/status", nullptr);
            _exit(127);
        }
        close(fds[1]);
        char buffer[4096];
        ssize_t n;
        while ((n = read(fds[0], buffer, sizeof buffer)) > 0) out.append(buffer, n);
        int status = 0;
        waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    });
    ASSERT_EQ(result.exit_code, 0) << result.output;
    auto fields = status_fields(result.output);
    EXPECT_EQ(fields["Uid"], "1000\t1000\t1000\t1000");
    EXPECT_EQ(mask(fields, "CapPrm"), bit(CAP_NET_BIND_SERVICE));
    EXPECT_EQ(mask(fields, "CapEff"), bit(CAP_NET_BIND_SERVICE));
    EXPECT_EQ(mask(fields, "CapAmb"), bit(CAP_NET_BIND_SERVICE));
    EXPECT_EQ(mask(fields, "CapBnd"), bit(CAP_CHOWN) | bit(CAP_KILL) | bit(CAP_NET_BIND_SERVICE));
}

TEST(Credentials, RootWithAnEmptyConfigHasNoCapabilities) {
    auto result = run_in_child([&](std::string& out) {
        Warnings warnings;
        finalize_credentials(plan_capabilities(spec::Capabilities{}, warnings), spec::User{}, true);
        out = read_file("/proc/self/status");
        return 0;
    });
    ASSERT_EQ(result.exit_code, 0) << result.output;
    auto fields = status_fields(result.output);
    EXPECT_EQ(fields["Uid"], "0\t0\t0\t0");
    EXPECT_EQ(fields["Groups"], "");
    for (const char* set : {"CapBnd", "CapPrm", "CapEff", "CapInh", "CapAmb"})
        EXPECT_EQ(mask(fields, set), 0u) << set;
}

TEST(Credentials, WithoutSetgroupsTheGroupsAreLeftAlone) {
    spec::User user;
    user.uid = 1000;
    user.gid = 1000;
    user.additional_gids = {10};
    auto result = run_in_child([&](std::string& out) {
        gid_t groups[] = {30};
        if (setgroups(1, groups) != 0) return 1;
        switch_user(user, false);
        out = read_file("/proc/self/status");
        return 0;
    });
    ASSERT_EQ(result.exit_code, 0) << result.output;
    EXPECT_EQ(status_fields(result.output)["Groups"], "30");
}

}  // namespace
}  // namespace tether::security
