// linux.sysctl: which keys a container may set given its namespaces, and the
// writes themselves inside fresh namespaces (the host is never touched).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>

#include <fstream>
#include <sstream>

#include "child_process.hpp"
#include "runtime/core/error.hpp"
#include "runtime/security/sysctl.hpp"

namespace tether::security {
namespace {

using ::testing::HasSubstr;

struct Case {
    const char* key;
    bool own_net, own_ipc, own_uts;
    const char* expected_error;  // "" == allowed
};

TEST(Sysctl, ValidationTable) {
    const Case cases[] = {
        {"net.ipv4.ip_forward", true, false, false, ""},
        {"net.ipv4.ip_forward", false, true, true, "not allowed in the host's network namespace"},
        {"net.core.somaxconn", true, false, false, ""},
        {"kernel.shmmax", false, true, false, ""},
        {"kernel.shmmax", true, false, true, "not allowed in the host's IPC namespace"},
        {"kernel.shm_rmid_forced", false, true, false, ""},
        {"kernel.msgmax", false, true, false, ""},
        {"kernel.msgmnb", false, false, false, "IPC namespace"},
        {"kernel.sem", false, true, false, ""},
        {"fs.mqueue.msg_max", false, true, false, ""},
        {"fs.mqueue.msg_max", true, false, true, "IPC namespace"},
        {"kernel.domainname", false, false, true, ""},
        {"kernel.hostname", false, false, true, ""},
        {"kernel.domainname", true, true, false, "not allowed in the host's UTS namespace"},
        {"kernel.panic", true, true, true, "is not in a separate kernel namespace"},
        {"vm.overcommit_memory", true, true, true, "is not in a separate kernel namespace"},
        {"fs.file-max", true, true, true, "is not in a separate kernel namespace"},
        {"net..ipv4", true, true, true, "empty component"},
        {"net/ipv4/ip_forward", true, true, true, "'.' as separator"},
    };
    for (const auto& c : cases) {
        std::string error;
        try {
            validate_sysctls({{c.key, "1"}}, c.own_net, c.own_ipc, c.own_uts);
        } catch (const Error& e) {
            error = e.what();
        }
        if (*c.expected_error == '\0') {
            EXPECT_EQ(error, "") << c.key;
        } else {
            EXPECT_THAT(error, HasSubstr(c.expected_error)) << c.key;
            EXPECT_THAT(error, HasSubstr(std::string("\"") + c.key + "\"")) << c.key;
        }
    }
}

TEST(Sysctl, RelativePath) {
    EXPECT_EQ(sysctl_relative_path("net.ipv4.ip_forward"), "net/ipv4/ip_forward");
    EXPECT_THROW(sysctl_relative_path(".net"), Error);
    EXPECT_THROW(sysctl_relative_path(""), Error);
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

TEST(Sysctl, WrittenInsideTheContainersNamespaces) {
    auto result = test::run_in_child([&](std::string& out) {
        if (unshare(CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) != 0) return 1;
        std::map<std::string, std::string> sysctls{{"net.ipv4.ip_forward", "1"},
                                                   {"kernel.shmmni", "1234"},
                                                   {"kernel.domainname", "tether.test"}};
        validate_sysctls(sysctls, true, true, true);
        apply_sysctls(sysctls, ProcFs::open());
        out = read_file("/proc/sys/net/ipv4/ip_forward") + read_file("/proc/sys/kernel/shmmni") +
              read_file("/proc/sys/kernel/domainname");
        return 0;
    });
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_EQ(result.output, "1\n1234\ntether.test\n");
}

TEST(Sysctl, WriteFailureNamesThePath) {
    std::string error;
    try {
        apply_sysctls({{"net.ipv4.no_such_knob", "1"}}, ProcFs::open());
    } catch (const Error& e) {
        error = e.what();
    }
    EXPECT_THAT(error, HasSubstr("/proc/sys/net/ipv4/no_such_knob"));
}

}  // namespace
}  // namespace tether::security
