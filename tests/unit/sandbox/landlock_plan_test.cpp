// plan_landlock as data: which rights are handled, which rules exist, and what
// the policy needs that a (possibly pretended) ABI lacks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "runtime/core/error.hpp"
#include "runtime/core/kernel_compat.hpp"
#include "runtime/sandbox/landlock.hpp"

namespace tether::sandbox {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

spec::SandboxPolicy policy_from(const std::map<std::string, std::string>& annotations) {
    return spec::parse_policy(annotations, std::nullopt,
                              [](const std::string&) -> std::string { throw std::runtime_error("no"); });
}

LandlockInputs inputs_at(int abi) {
    LandlockInputs inputs;
    inputs.abi = abi;
    inputs.writable_mounts = {"/dev", "/tmp"};
    return inputs;
}

const LandlockPathRule* rule_for(const LandlockPlan& plan, const std::string& path,
                                 const std::string& reason) {
    for (const auto& rule : plan.path_rules)
        if (rule.path == path && rule.reason == reason) return &rule;
    return nullptr;
}

std::uint64_t port_access(const LandlockPlan& plan, std::uint16_t port) {
    for (const auto& rule : plan.port_rules)
        if (rule.port == port) return rule.allowed_access;
    return 0;
}

TEST(LandlockPlan, RootfsReadableAndExecutableWritableMountsWritable) {
    const auto plan = plan_landlock(policy_from({{"run.tether.sandbox.mode", "enforce"}}), inputs_at(7));
    EXPECT_TRUE(plan.apply);
    const auto* root = rule_for(plan, "/", "rootfs");
    ASSERT_NE(root, nullptr);
    EXPECT_EQ(root->allowed_access, LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
                                        LANDLOCK_ACCESS_FS_EXECUTE);
    const auto* tmp = rule_for(plan, "/tmp", "writable mount");
    ASSERT_NE(tmp, nullptr);
    EXPECT_EQ(tmp->allowed_access, plan.handled_access_fs);
    EXPECT_EQ(rule_for(plan, "/", "writable rootfs"), nullptr);
    EXPECT_THAT(plan.missing_features, IsEmpty());
}

TEST(LandlockPlan, HandledFilesystemRightsFollowTheAbi) {
    const auto policy = policy_from({{"run.tether.sandbox.mode", "enforce"}});
    EXPECT_EQ(plan_landlock(policy, inputs_at(1)).handled_access_fs, (1ULL << 13) - 1);
    EXPECT_EQ(plan_landlock(policy, inputs_at(2)).handled_access_fs, (1ULL << 14) - 1);
    EXPECT_EQ(plan_landlock(policy, inputs_at(3)).handled_access_fs, (1ULL << 15) - 1);
    EXPECT_EQ(plan_landlock(policy, inputs_at(4)).handled_access_fs, (1ULL << 15) - 1);
    EXPECT_EQ(plan_landlock(policy, inputs_at(5)).handled_access_fs, (1ULL << 16) - 1);
    EXPECT_EQ(plan_landlock(policy, inputs_at(7)).restrict_flags,
              LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON);
    EXPECT_EQ(plan_landlock(policy, inputs_at(6)).restrict_flags, 0u);
}

TEST(LandlockPlan, WritableRootfsIsWritableUnlessAllowWriteConfinesWrites) {
    auto inputs = inputs_at(7);
    inputs.rootfs_writable = true;
    EXPECT_NE(rule_for(plan_landlock(policy_from({{"run.tether.sandbox.mode", "enforce"}}), inputs),
                       "/", "writable rootfs"),
              nullptr);
    const auto confined = plan_landlock(policy_from({{"run.tether.filesystem.allowWrite", "/work"}}), inputs);
    EXPECT_EQ(rule_for(confined, "/", "writable rootfs"), nullptr);
    EXPECT_NE(rule_for(confined, "/work", "allowWrite"), nullptr);
    EXPECT_NE(rule_for(confined, "/tmp", "writable mount"), nullptr);
}

TEST(LandlockPlan, AllowExecuteConfinesExecution) {
    const auto plan = plan_landlock(policy_from({{"run.tether.filesystem.allowExecute", "/usr"},
                                                 {"run.tether.filesystem.allowWrite", "/work"}}),
                                    inputs_at(7));
    EXPECT_EQ(rule_for(plan, "/", "rootfs")->allowed_access & LANDLOCK_ACCESS_FS_EXECUTE, 0u);
    EXPECT_EQ(rule_for(plan, "/work", "allowWrite")->allowed_access & LANDLOCK_ACCESS_FS_EXECUTE, 0u);
    EXPECT_NE(rule_for(plan, "/usr", "allowExecute")->allowed_access & LANDLOCK_ACCESS_FS_EXECUTE, 0u);
}

TEST(LandlockPlan, NoNetworkKeysNoNetworkRules) {
    const auto plan = plan_landlock(policy_from({{"run.tether.filesystem.allowWrite", "/w"}}), inputs_at(7));
    EXPECT_EQ(plan.handled_access_net, 0u);
    EXPECT_THAT(plan.port_rules, IsEmpty());
}

TEST(LandlockPlan, ConnectOnlyToListedPortsProxyAndDns) {
    auto inputs = inputs_at(7);
    inputs.proxy_port = 3128;
    inputs.dns_port = 53;
    const auto without_dns =
        plan_landlock(policy_from({{"run.tether.network.allowLocalOutboundPorts", "5432,8000-8002"}}), inputs);
    EXPECT_EQ(without_dns.handled_access_net & LANDLOCK_ACCESS_NET_CONNECT_TCP,
              LANDLOCK_ACCESS_NET_CONNECT_TCP);
    for (std::uint16_t port : {5432, 8000, 8001, 8002, 3128})
        EXPECT_EQ(port_access(without_dns, port), LANDLOCK_ACCESS_NET_CONNECT_TCP) << port;
    EXPECT_EQ(port_access(without_dns, 53), 0u);
    EXPECT_EQ(port_access(without_dns, 8003), 0u);
    const auto with_dns = plan_landlock(policy_from({{"run.tether.network.allowDNS", "true"}}), inputs);
    EXPECT_EQ(port_access(with_dns, 53), LANDLOCK_ACCESS_NET_CONNECT_TCP);
}

TEST(LandlockPlan, BindDefaultsPerNetworkMode) {
    auto inputs = inputs_at(7);
    const auto policy = policy_from({{"run.tether.network.allowDNS", "false"}});
    inputs.own_network_namespace = true;  // any port on its own loopback
    EXPECT_EQ(plan_landlock(policy, inputs).handled_access_net & LANDLOCK_ACCESS_NET_BIND_TCP, 0u);
    inputs.own_network_namespace = false;  // none on the host's
    const auto host = plan_landlock(policy, inputs);
    EXPECT_NE(host.handled_access_net & LANDLOCK_ACCESS_NET_BIND_TCP, 0u);
    EXPECT_THAT(host.port_rules, IsEmpty());
}

TEST(LandlockPlan, ListedBindPortsAreBindableAndInAnOwnNamespaceConnectable) {
    auto inputs = inputs_at(7);
    const auto policy = policy_from({{"run.tether.network.allowBindPorts", "3000"}});
    inputs.own_network_namespace = true;
    EXPECT_EQ(port_access(plan_landlock(policy, inputs), 3000),
              LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP);
    inputs.own_network_namespace = false;
    EXPECT_EQ(port_access(plan_landlock(policy, inputs), 3000), LANDLOCK_ACCESS_NET_BIND_TCP);
}

// Binding is left unhandled only when the listed ranges, in any order and
// overlapping, leave no port of 1-65535 out; one missing port handles it.
TEST(LandlockPlan, BindIsUnhandledOnlyWhenTheRangesCoverEveryPort) {
    auto inputs = inputs_at(7);
    inputs.own_network_namespace = false;
    auto handles_bind = [&](const std::string& ports) {
        const auto plan = plan_landlock(policy_from({{"run.tether.network.allowBindPorts", ports}}), inputs);
        return (plan.handled_access_net & LANDLOCK_ACCESS_NET_BIND_TCP) != 0;
    };
    EXPECT_FALSE(handles_bind("1-65535"));
    EXPECT_FALSE(handles_bind("40000-65535,1-40000"));
    EXPECT_FALSE(handles_bind("30000-65535,1-20000,10000-30000"));
    EXPECT_TRUE(handles_bind("1-1000,1002-65535"));
    EXPECT_TRUE(handles_bind("2-65535"));
    EXPECT_TRUE(handles_bind("1-65534"));
}

TEST(LandlockPlan, ScopesAtAbi6) {
    auto inputs = inputs_at(6);
    inputs.shares_host_pid_namespace = true;
    const auto policy = policy_from({{"run.tether.sandbox.mode", "enforce"}});
    EXPECT_EQ(plan_landlock(policy, inputs).scoped,
              LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL);
    inputs.shares_host_pid_namespace = false;
    EXPECT_EQ(plan_landlock(policy, inputs).scoped, LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET);
    EXPECT_EQ(plan_landlock(policy_from({{"run.tether.sandbox.scopeSignals", "true"}}), inputs).scoped,
              LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL);
}

TEST(LandlockPlan, MissingFeaturesNameTheRuleAndBothAbis) {
    auto inputs = inputs_at(3);
    inputs.own_network_namespace = false;
    inputs.shares_host_pid_namespace = true;
    const auto plan = plan_landlock(policy_from({{"run.tether.network.allowLocalOutboundPorts", "5432"}}), inputs);
    EXPECT_THAT(plan.missing_features,
                ElementsAre("TCP port rules (run.tether.network.*) need Landlock ABI 4, kernel has ABI 3",
                            "abstract unix socket scoping (host network) needs Landlock ABI 6, kernel has ABI 3",
                            "signal scoping (run.tether.sandbox.scopeSignals, host PID namespace) needs "
                            "Landlock ABI 6, kernel has ABI 3"));
    EXPECT_EQ(plan.handled_access_net, 0u);
    EXPECT_EQ(plan.scoped, 0u);
}

TEST(LandlockPlan, OwnNamespacesNeedNoScoping) {
    const auto plan = plan_landlock(policy_from({{"run.tether.filesystem.allowWrite", "/w"}}), inputs_at(5));
    EXPECT_THAT(plan.missing_features, IsEmpty());
}

TEST(LandlockPlan, TruncateNeedsAbi3WhenWritesAreConfined) {
    const auto plan = plan_landlock(policy_from({{"run.tether.filesystem.allowWrite", "/w"}}), inputs_at(2));
    EXPECT_THAT(plan.missing_features,
                ElementsAre("truncate control for run.tether.filesystem.allowWrite needs Landlock "
                            "ABI 3, kernel has ABI 2"));
}

TEST(LandlockPlan, NoLandlockAtAll) {
    const auto plan = plan_landlock(policy_from({{"run.tether.filesystem.allowWrite", "/w"}}), inputs_at(0));
    EXPECT_FALSE(plan.apply);
    EXPECT_THAT(plan.missing_features,
                ElementsAre("filesystem rules (run.tether.filesystem.allowWrite/allowExecute) need "
                            "Landlock ABI 1, kernel has no Landlock"));
    EXPECT_THAT(plan.notes, ::testing::Contains("Landlock not applied: kernel has no Landlock"));
}

TEST(LandlockPlan, AuditModeAppliesNothingAndSaysWhy) {
    auto inputs = inputs_at(2);
    inputs.own_network_namespace = false;
    const auto plan = plan_landlock(policy_from({{"run.tether.sandbox.mode", "audit"},
                                                 {"run.tether.network.allowDNS", "true"}}),
                                    inputs);
    EXPECT_FALSE(plan.apply);
    EXPECT_THAT(plan.missing_features, IsEmpty());
    EXPECT_THAT(plan.notes, ElementsAre("audit mode: Landlock not applied (it has no permissive "
                                        "mode); nothing is denied"));
}

TEST(LandlockPlan, RequireFeaturesFailsUnlessBestEffort) {
    const auto plan = plan_landlock(policy_from({{"run.tether.network.allowDNS", "false"}}), inputs_at(3));
    try {
        require_landlock_features(plan, false);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("sandbox: the kernel lacks what the policy needs: TCP port "
                                        "rules (run.tether.network.*) need Landlock ABI 4, kernel has ABI 3"));
        EXPECT_THAT(e.what(), HasSubstr("run.tether.sandbox.bestEffort=true"));
    }
    EXPECT_NO_THROW(require_landlock_features(plan, true));
}

TEST(LandlockAbi, TestSwitchLowersTheAbi) {
    const int kernel = kernel_landlock_abi();
    EXPECT_EQ(landlock_abi(), kernel);
    EXPECT_EQ(landlock_abi(3), std::min(kernel, 3));
    EXPECT_EQ(landlock_abi(0), 0);
    EXPECT_EQ(landlock_abi(99), kernel);
}

TEST(LandlockAbi, TestSwitchParsing) {
    EXPECT_EQ(parse_test_landlock_abi(nullptr), std::nullopt);
    EXPECT_EQ(parse_test_landlock_abi(""), std::nullopt);
    EXPECT_EQ(parse_test_landlock_abi("3"), std::optional<int>(3));
    EXPECT_THROW(parse_test_landlock_abi("three"), Error);
    EXPECT_THROW(parse_test_landlock_abi("-1"), Error);
    EXPECT_THROW(parse_test_landlock_abi("100"), Error);
}

}  // namespace
}  // namespace tether::sandbox
