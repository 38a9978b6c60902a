// Test-only: linux.seccomp objects written inline, for the translation tests
// (seccomp_translation_test.cpp) and the ones that load the filter for real
// (seccomp_behaviour_test.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "spec/config.hpp"

namespace tether::security::test {

inline spec::SeccompSyscall rule(std::vector<std::string> names, std::string action,
                                 std::vector<spec::SeccompArg> args = {},
                                 std::optional<uint32_t> errno_ret = std::nullopt) {
    spec::SeccompSyscall r;
    r.names = std::move(names);
    r.action = std::move(action);
    r.args = std::move(args);
    r.errno_ret = errno_ret;
    return r;
}

inline spec::Seccomp allow_by_default(std::vector<spec::SeccompSyscall> rules) {
    spec::Seccomp s;
    s.default_action = "SCMP_ACT_ALLOW";
    s.syscalls = std::move(rules);
    return s;
}

}  // namespace tether::security::test
