// The kernel's rules are the supervisor's: socket_rules_for() maps a
// SupervisorPolicy, and every rule a program can report carries the name,
// errno and annotation decide() gives the same call.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "hooks/bpf/program_policy.hpp"
#include "hooks/bpf/socket_events.hpp"
#include "hooks/bpf/socket_programs.hpp"
#include "hooks/bpf/socket_rules.hpp"
#include "hooks/supervisor/decision.hpp"

namespace tether::hooks::bpf {
namespace {

Endpoint endpoint(int family, const char* text, uint16_t port) {
    Endpoint e;
    e.family = static_cast<decltype(e.family)>(family);
    inet_pton(family, text, e.bytes.data());
    e.port = port;
    return e;
}
Endpoint v4(const char* text, uint16_t port) { return endpoint(AF_INET, text, port); }
Endpoint v6(const char* text, uint16_t port) { return endpoint(AF_INET6, text, port); }

TEST(SocketRules, PortSetsBecomeMergedSpans) {
    EXPECT_EQ(port_spans({}), std::vector<PortSpan>{});
    EXPECT_EQ(port_spans({1, 2, 3, 7, 9, 10}), (std::vector<PortSpan>{{1, 3}, {7, 7}, {9, 10}}));
    EXPECT_EQ(port_spans({65534, 65535}), (std::vector<PortSpan>{{65534, 65535}}));
}

TEST(SocketRules, HostNetworkKeepsPortsProxyAndBoundPorts) {
    SupervisorPolicy policy;
    policy.mode = NetworkMode::host;
    policy.host_loopback_ports = {5432, 8080, 8081};
    policy.proxy_port = 3128;
    policy.bind_ports = std::set<uint16_t>{};
    SocketRules rules = socket_rules_for(policy);
    EXPECT_EQ(rules.host_loopback_ports, (std::vector<PortSpan>{{5432, 5432}, {8080, 8081}}));
    EXPECT_EQ(rules.proxy_port, 3128);
    EXPECT_TRUE(rules.track_bound_ports);
    ASSERT_TRUE(rules.bind_ports);
    EXPECT_TRUE(rules.bind_ports->empty()) << "host network default: no bind port";
}

TEST(SocketRules, OwnNamespaceNeedsNoPortListAndNoBoundPortMap) {
    SupervisorPolicy policy;
    policy.mode = NetworkMode::own_namespace;
    policy.host_loopback_ports = {5432};
    SocketRules rules = socket_rules_for(policy);
    EXPECT_TRUE(rules.host_loopback_ports.empty()) << "its loopback is its own; the bridge brings the host's";
    EXPECT_FALSE(rules.track_bound_ports);
    EXPECT_FALSE(rules.bind_ports);
}

TEST(SocketRules, ResolversAreNormalisedAndUnique) {
    SupervisorPolicy policy;
    policy.allow_dns = true;
    policy.dns_resolvers = {v4("127.0.0.53", 53), v6("::ffff:127.0.0.53", 53), v6("::1", 53)};
    SocketRules rules = socket_rules_for(policy);
    ASSERT_EQ(rules.resolvers.size(), 2u);
    EXPECT_EQ(rules.resolvers[0], v4("127.0.0.53", 53));
    EXPECT_EQ(rules.resolvers[1], v6("::1", 53));
}

// Each rule of the programs against decide() for a call that reaches it.
TEST(SocketRules, RuleNamesErrnosAndAnnotationsAreDecideOnes) {
    SupervisorPolicy host;
    host.mode = NetworkMode::host;
    host.host_loopback_ports = {5432};
    host.proxy_port = 3128;
    host.bind_ports = std::set<uint16_t>{8000};
    host.dns_resolvers = {v4("127.0.0.53", 53)};
    SupervisorPolicy own;
    struct Case {
        Rule rule;
        const SupervisorPolicy* policy;
        Operation op;
        Endpoint to;
    } cases[] = {
        {Rule::own_loopback, &own, Operation::connect, v4("127.0.0.1", 9)},
        {Rule::host_loopback_port, &host, Operation::connect, v4("127.0.0.1", 5432)},
        {Rule::egress_proxy, &host, Operation::connect, v4("127.0.0.1", 3128)},
        {Rule::dns_not_allowed_loopback, &host, Operation::send, v4("127.0.0.53", 53)},
        {Rule::host_loopback_port_not_listed, &host, Operation::send, v6("::1", 9)},
        {Rule::direct_egress, &host, Operation::connect, v4("192.0.2.1", 80)},
        {Rule::bind_port_not_listed, &host, Operation::bind, v4("127.0.0.1", 9000)},
        {Rule::bind_own_namespace, &own, Operation::bind, v4("0.0.0.0", 9000)},
        {Rule::bind_host_loopback, &host, Operation::bind, v4("127.0.0.1", 8000)},
        {Rule::bind_wildcard_narrowed, &host, Operation::bind, v4("0.0.0.0", 8000)},
        {Rule::bind_non_loopback_on_host_network, &host, Operation::bind, v4("192.0.2.1", 8000)},
    };
    for (const auto& c : cases) {
        const RuleInfo& info = rule_info(c.rule);
        SCOPED_TRACE(info.name);
        DecisionRequest request;
        request.operation = c.op;
        request.socket_type = SOCK_DGRAM;
        request.destination = c.to;
        request.caller_may_bind_privileged_ports = true;
        Verdict verdict = decide(*c.policy, request);
        EXPECT_EQ(verdict.rule, info.name);
        EXPECT_EQ(verdict.allowed, info.allows);
        EXPECT_EQ(verdict.deny_errno, info.deny_errno);
        EXPECT_EQ(verdict.annotation, info.annotation);
    }
    EXPECT_THROW(rule_info(static_cast<Rule>(0)), std::out_of_range);
    EXPECT_THROW(rule_info(static_cast<Rule>(kLastRule + 1)), std::out_of_range);
}

TEST(SocketRules, OneProgramSetServesEveryPolicyAndEachAttachesWhatItNeeds) {
    SharedMaps maps{3, 4, 5, 6, 7};
    auto programs = build_socket_programs(maps);
    ASSERT_EQ(programs.size(), 11u);
    for (const auto& p : programs) {
        SCOPED_TRACE(p.name);
        ASSERT_FALSE(p.code.empty());
        EXPECT_EQ(p.code.back().code, BPF_JMP | BPF_EXIT);
        EXPECT_LT(p.code.size(), 4096u);
    }
    auto needed = [&](const SocketRules& rules) {
        std::vector<std::string> names;
        for (const auto& p : programs)
            if (program_needed(p.use, rules)) names.push_back(p.name);
        return names;
    };
    const std::vector<std::string> base = {"connect4", "connect6", "sendmsg4", "sendmsg6", "bind4", "bind6"};
    SocketRules rules;
    EXPECT_EQ(needed(rules), base);
    rules.mode = NetworkMode::host;
    rules.track_bound_ports = true;
    auto host = base;
    host.insert(host.end(), {"post_bind4", "post_bind6"});
    EXPECT_EQ(needed(rules), host);
    rules = {};
    rules.dns_port = 5353;
    rules.transparent_port = 15001;
    auto transparent = base;
    transparent.insert(transparent.end(), {"recvmsg4", "recvmsg6", "handoff"});
    EXPECT_EQ(needed(rules), transparent);
}

TEST(ProgramPolicy, RulesBecomeTheFieldsTheProgramsRead) {
    SocketRules rules;
    rules.mode = NetworkMode::host;
    rules.host_loopback_ports = {{5432, 5432}, {8080, 8090}};
    rules.proxy_port = 3128;
    rules.track_bound_ports = true;
    rules.allow_dns = true;
    rules.resolvers = {v4("127.0.0.53", 53), v6("2001:db8::1", 53)};
    rules.bind_ports = std::vector<PortSpan>{{8000, 8000}};
    rules.audit = true;
    rules.transparent_port = 15001;
    rules.dns_port = 5353;
    auto p = program_policy_for(rules, 0x1234, 0x77);
    EXPECT_EQ(p->cgroup_id, 0x1234u);
    EXPECT_EQ(p->slot, 0x77u);
    EXPECT_EQ(p->ready, kPolicyReady);
    EXPECT_EQ(p->host_network, 1u);
    EXPECT_EQ(p->allow_dns, 1u);
    EXPECT_EQ(p->audit, 1u);
    EXPECT_EQ(p->track_bound_ports, 1u);
    EXPECT_EQ(p->check_bind_ports, 1u);
    EXPECT_EQ(p->proxy_port, 3128u);
    EXPECT_EQ(p->transparent_port_be, htons(15001));
    EXPECT_EQ(p->dns_port_be, htons(5353));
    auto bit = [](const uint32_t* bitmap, uint32_t port) { return (bitmap[port >> 5] >> (port & 31)) & 1; };
    for (uint32_t port : {5432u, 8080u, 8085u, 8090u}) EXPECT_EQ(bit(p->host_loopback_ports, port), 1u) << port;
    for (uint32_t port : {0u, 5431u, 5433u, 8079u, 8091u, 65535u}) EXPECT_EQ(bit(p->host_loopback_ports, port), 0u) << port;
    EXPECT_EQ(bit(p->bind_ports, 8000), 1u);
    EXPECT_EQ(bit(p->bind_ports, 8001), 0u);
    for (uint32_t word : p->bound_ports) EXPECT_EQ(word, 0u);
    EXPECT_EQ(p->resolvers[0].family, 4u);
    EXPECT_EQ(p->resolvers[0].address[0], inet_addr("127.0.0.53"));
    EXPECT_EQ(p->resolvers[1].family, 6u);
    EXPECT_EQ(std::memcmp(p->resolvers[1].address, rules.resolvers[1].bytes.data(), 16), 0);
    EXPECT_EQ(p->resolvers[2].family, 0u) << "an unused slot matches nothing";

    SocketRules plain;
    auto q = program_policy_for(plain, 7, 8);
    EXPECT_EQ(q->host_network, 0u);
    EXPECT_EQ(q->check_bind_ports, 0u) << "no list: any bind port";
    EXPECT_EQ(q->transparent_port_be, 0u);
}

TEST(ProgramPolicy, ResolversBeyondTheSlotsAreNotCompared) {
    SocketRules rules;
    for (int i = 1; i <= 10; ++i) rules.resolvers.push_back(v4(("10.0.0." + std::to_string(i)).c_str(), 53));
    auto p = program_policy_for(rules, 1, 2);
    EXPECT_EQ(p->resolvers[kMaxPolicyResolvers - 1].address[0], inet_addr("10.0.0.8"));
}

TEST(SocketEvents, AnEventReadsAsTheSupervisorsLine) {
    SocketEvent event{};
    event.pid_tgid = (uint64_t{41} << 32) | 42;
    std::strcpy(event.comm, "curl");
    inet_pton(AF_INET6, "::ffff:127.0.0.1", event.address);
    event.port_be = htons(8000);
    event.op = static_cast<uint8_t>(EventOp::connect);
    event.verdict = static_cast<uint8_t>(EventVerdict::deny);
    event.rule = static_cast<uint8_t>(Rule::host_loopback_port_not_listed);
    event.family = 6;
    Decision d = decision_from_event(event, "c1");
    EXPECT_EQ(d.container_id, "c1");
    EXPECT_EQ(d.pid, 42) << "the thread, as the supervisor logs it";
    EXPECT_EQ(d.comm, "curl");
    EXPECT_EQ(d.syscall, "connect");
    EXPECT_EQ(d.family, "inet6");
    EXPECT_EQ(d.address, "::ffff:127.0.0.1");
    EXPECT_EQ(d.port, 8000);
    EXPECT_EQ(d.verdict, "deny");
    EXPECT_EQ(d.rule, "host-loopback-port-not-listed");
    EXPECT_EQ(d.annotation, "run.tether.network.allowLocalOutboundPorts");
    event.rule = 200;
    EXPECT_EQ(decision_from_event(event, "c1").rule, "unknown-rule-200");
}

}  // namespace
}  // namespace tether::hooks::bpf
