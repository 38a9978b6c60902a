// Why kernel enforcement is out of reach rootless: tether-netd in a user
// namespace says so, with the uid outside, before any cgroup question
// (rootless podman and rootless Docker saw "the init is in the root cgroup
// v2", which named a symptom, not the reason).
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "hooks/bpf/socket_enforcement.hpp"
#include "runtime/core/error.hpp"
#include "runtime/core/user_namespace.hpp"

namespace tether::hooks::bpf {
namespace {

constexpr const char* kInitialMap = "         0          0 4294967295\n";
// rootlesskit's or podman's: the user, then its subordinate range.
constexpr const char* kRootlessMap = "         0       1001          1\n         1 3401000000      65536\n";

TEST(UserNamespace, TheIdentityOverTheWholeRangeIsTheInitialNamespace) {
    EXPECT_FALSE(uid_map_is_user_namespace(kInitialMap));
    EXPECT_TRUE(uid_map_is_user_namespace(kRootlessMap));
    EXPECT_TRUE(uid_map_is_user_namespace("0 0 65536\n"));  // identity, but not the whole range
    EXPECT_FALSE(uid_map_is_user_namespace(""));            // unreadable: counts as initial
}

TEST(UserNamespace, UidOutsideFollowsEachLine) {
    EXPECT_EQ(uid_outside(kRootlessMap, 0), 1001u);
    EXPECT_EQ(uid_outside(kRootlessMap, 1), 3401000000u);
    EXPECT_EQ(uid_outside(kRootlessMap, 65536), 3401065535u);
    EXPECT_FALSE(uid_outside(kRootlessMap, 65537).has_value());
}

TEST(BpfPrivileges, TheInitialNamespacePasses) { EXPECT_NO_THROW(require_initial_user_namespace(kInitialMap)); }

TEST(BpfPrivileges, AUserNamespaceIsTheReasonWithTheUidOutside) {
    try {
        require_initial_user_namespace(kRootlessMap);
        FAIL() << "no error in a user namespace";
    } catch (const Error& e) {
        std::string message = e.what();
        EXPECT_NE(message.find("tether-netd runs in a user namespace (rootless"), std::string::npos) << message;
        EXPECT_NE(message.find("CAP_BPF and CAP_NET_ADMIN in the initial user namespace"), std::string::npos)
            << message;
        if (::geteuid() == 0) {
            EXPECT_NE(message.find("uid 0 here is uid 1001 outside"), std::string::npos) << message;
        }
    }
}

}  // namespace
}  // namespace tether::hooks::bpf
