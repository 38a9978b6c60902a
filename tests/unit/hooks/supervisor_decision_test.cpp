// The decision table, as data: every loopback spelling, each network mode,
// listed ports, proxy, DNS, binds.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <sstream>

#include <gtest/gtest.h>

#include "hooks/common/decision_log.hpp"
#include "hooks/supervisor/decision.hpp"

namespace tether::hooks {
namespace {

Endpoint endpoint(const char* text, uint16_t port) {
    Endpoint e;
    if (std::strchr(text, ':')) {
        e.family = AF_INET6;
        inet_pton(AF_INET6, text, e.bytes.data());
    } else {
        e.family = AF_INET;
        inet_pton(AF_INET, text, e.bytes.data());
    }
    e.port = port;
    return e;
}

Verdict connect_to(const SupervisorPolicy& policy, const char* address, uint16_t port, int type = SOCK_STREAM,
                   const std::set<uint16_t>* bound = nullptr) {
    DecisionRequest r;
    r.operation = Operation::connect;
    r.socket_type = type;
    r.destination = endpoint(address, port);
    r.sandbox_bound_ports = bound;
    return decide(policy, r);
}

Verdict bind_at(const SupervisorPolicy& policy, const char* address, uint16_t port, bool cap = false) {
    DecisionRequest r;
    r.operation = Operation::bind;
    r.destination = endpoint(address, port);
    r.caller_may_bind_privileged_ports = cap;
    return decide(policy, r);
}

SupervisorPolicy host_policy() {
    SupervisorPolicy p;
    p.mode = NetworkMode::host;
    p.host_loopback_ports = {5432};
    p.proxy_port = 3128;
    return p;
}

const char* kLoopbackSpellings[] = {"127.0.0.1", "127.0.0.2",  "127.255.255.254", "::1",
                                    "::ffff:127.0.0.1", "::ffff:127.1.2.3", "0.0.0.0", "::", "::ffff:0.0.0.0"};

TEST(SupervisorDecision, HostNetworkEveryLoopbackSpellingOfAListedPortIsAllowed) {
    for (const char* spelling : kLoopbackSpellings) {
        Verdict v = connect_to(host_policy(), spelling, 5432);
        EXPECT_TRUE(v.allowed) << spelling;
        EXPECT_EQ(v.rule, "host-loopback-port") << spelling;
    }
}

TEST(SupervisorDecision, HostNetworkEveryLoopbackSpellingOfAnUnlistedPortIsRefusedLikeAClosedPort) {
    for (const char* spelling : kLoopbackSpellings) {
        Verdict v = connect_to(host_policy(), spelling, 8000);
        EXPECT_FALSE(v.allowed) << spelling;
        EXPECT_EQ(v.deny_errno, ECONNREFUSED) << spelling;
        EXPECT_EQ(v.annotation, "run.tether.network.allowLocalOutboundPorts") << spelling;
    }
}

TEST(SupervisorDecision, HostNetworkProxyPortAndSandboxBoundPortsAreReachable) {
    EXPECT_EQ(connect_to(host_policy(), "127.0.0.1", 3128).rule, "egress-proxy");
    std::set<uint16_t> bound = {40000};
    EXPECT_TRUE(connect_to(host_policy(), "::1", 40000, SOCK_STREAM, &bound).allowed);
    EXPECT_FALSE(connect_to(host_policy(), "::1", 40001, SOCK_STREAM, &bound).allowed);
}

TEST(SupervisorDecision, UdpIsDecidedLikeTcp) {
    EXPECT_TRUE(connect_to(host_policy(), "127.0.0.1", 5432, SOCK_DGRAM).allowed);
    EXPECT_FALSE(connect_to(host_policy(), "127.0.0.1", 5433, SOCK_DGRAM).allowed);
}

TEST(SupervisorDecision, RawAndOtherSocketTypesAreRefused) {
    Verdict v = connect_to(host_policy(), "127.0.0.1", 5432, SOCK_RAW);
    EXPECT_FALSE(v.allowed);
    EXPECT_EQ(v.deny_errno, EACCES);
}

TEST(SupervisorDecision, DirectEgressIsRefusedInEveryMode) {
    for (auto mode : {NetworkMode::host, NetworkMode::own_namespace, NetworkMode::veth}) {
        SupervisorPolicy p = host_policy();
        p.mode = mode;
        for (const char* address : {"192.0.2.1", "10.0.0.1", "2001:db8::1", "::ffff:192.0.2.1", "::127.0.0.1"}) {
            Verdict v = connect_to(p, address, 5432);
            EXPECT_FALSE(v.allowed) << address;
            EXPECT_EQ(v.deny_errno, EACCES) << address;
            EXPECT_EQ(v.rule, "direct-egress") << address;
        }
    }
}

TEST(SupervisorDecision, OwnNamespaceLoopbackIsTheContainersOwn) {
    for (auto mode : {NetworkMode::own_namespace, NetworkMode::veth}) {
        SupervisorPolicy p = host_policy();
        p.mode = mode;
        for (const char* spelling : kLoopbackSpellings) {
            Verdict v = connect_to(p, spelling, 8000);
            EXPECT_TRUE(v.allowed) << spelling;
            EXPECT_EQ(v.rule, "own-loopback");
        }
    }
}

TEST(SupervisorDecision, DnsResolversOnlyWithAllowDns) {
    SupervisorPolicy p = host_policy();
    p.dns_resolvers = {endpoint("10.0.0.53", 53), endpoint("127.0.0.53", 53)};
    Verdict off = connect_to(p, "10.0.0.53", 53, SOCK_DGRAM);
    EXPECT_FALSE(off.allowed);
    EXPECT_EQ(off.annotation, "run.tether.network.allowDNS");
    EXPECT_FALSE(connect_to(p, "127.0.0.53", 53, SOCK_DGRAM).allowed);
    p.allow_dns = true;
    EXPECT_TRUE(connect_to(p, "10.0.0.53", 53, SOCK_DGRAM).allowed);
    EXPECT_TRUE(connect_to(p, "::ffff:10.0.0.53", 53, SOCK_STREAM).allowed);
    EXPECT_TRUE(connect_to(p, "127.0.0.53", 53, SOCK_DGRAM).allowed);
    EXPECT_FALSE(connect_to(p, "10.0.0.53", 54, SOCK_DGRAM).allowed);
    EXPECT_FALSE(connect_to(p, "10.0.0.54", 53, SOCK_DGRAM).allowed);
}

TEST(SupervisorDecision, PrivilegedBindNeedsCapNetBindService) {
    SupervisorPolicy p = host_policy();
    EXPECT_FALSE(bind_at(p, "127.0.0.1", 80).allowed);
    EXPECT_TRUE(bind_at(p, "127.0.0.1", 80, true).allowed);
    EXPECT_TRUE(bind_at(p, "127.0.0.1", 0).allowed);
    EXPECT_TRUE(bind_at(p, "127.0.0.1", 1024).allowed);
}

TEST(SupervisorDecision, BindPortListApplies) {
    SupervisorPolicy p = host_policy();
    p.bind_ports = std::set<uint16_t>{8080};
    EXPECT_TRUE(bind_at(p, "127.0.0.1", 8080).allowed);
    Verdict v = bind_at(p, "127.0.0.1", 8081);
    EXPECT_FALSE(v.allowed);
    EXPECT_EQ(v.annotation, "run.tether.network.allowBindPorts");
    EXPECT_TRUE(bind_at(p, "127.0.0.1", 0).allowed);  // ephemeral: client sockets bind too
}

TEST(SupervisorDecision, HostNetworkBindsStayOnLoopback) {
    SupervisorPolicy p = host_policy();
    EXPECT_TRUE(bind_at(p, "::1", 8080).allowed);
    EXPECT_FALSE(bind_at(p, "192.0.2.1", 8080).allowed);
    Verdict v4 = bind_at(p, "0.0.0.0", 8080);
    ASSERT_TRUE(v4.bind_instead.has_value());
    EXPECT_EQ(*v4.bind_instead, endpoint("127.0.0.1", 8080));
    Verdict v6 = bind_at(p, "::", 8080);
    ASSERT_TRUE(v6.bind_instead.has_value());
    EXPECT_EQ(*v6.bind_instead, endpoint("::1", 8080));
    Verdict mapped = bind_at(p, "::ffff:0.0.0.0", 8080);
    ASSERT_TRUE(mapped.bind_instead.has_value());
    EXPECT_EQ(*mapped.bind_instead, endpoint("::ffff:127.0.0.1", 8080));
}

TEST(SupervisorDecision, OwnNamespaceBindsAnywhereInIt) {
    SupervisorPolicy p;
    EXPECT_TRUE(bind_at(p, "0.0.0.0", 8080).allowed);
    EXPECT_FALSE(bind_at(p, "0.0.0.0", 8080).bind_instead.has_value());
}

// parse_socket_address: the socket's domain decides how the bytes are read.
TEST(SupervisorSockaddr, ParsesWhatTheKernelWouldUse) {
    sockaddr_in v4{};
    v4.sin_family = AF_INET;
    v4.sin_port = htons(80);
    v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    auto bytes = [](const auto& s) { return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&s), sizeof s); };

    auto parsed = parse_socket_address(AF_INET, AddressUse::connect, bytes(v4));
    ASSERT_TRUE(std::holds_alternative<Endpoint>(parsed));
    EXPECT_EQ(std::get<Endpoint>(parsed), endpoint("127.0.0.1", 80));

    // Too short: EINVAL, like the kernel.
    auto short_one = parse_socket_address(AF_INET, AddressUse::connect, bytes(v4).first(8));
    ASSERT_TRUE(std::holds_alternative<Refusal>(short_one));
    EXPECT_EQ(std::get<Refusal>(short_one).error, EINVAL);

    // An AF_INET6 sockaddr on an AF_INET socket is not read as IPv6.
    sockaddr_in6 v6{};
    v6.sin6_family = AF_INET6;
    v6.sin6_addr = in6addr_loopback;
    auto mismatch = parse_socket_address(AF_INET, AddressUse::connect, bytes(v6));
    ASSERT_TRUE(std::holds_alternative<Refusal>(mismatch));
    EXPECT_EQ(std::get<Refusal>(mismatch).error, EAFNOSUPPORT);

    // AF_UNSPEC connect dissolves the association: no destination.
    sockaddr_in unspec{};
    EXPECT_TRUE(std::holds_alternative<NoDestination>(parse_socket_address(AF_INET, AddressUse::connect, bytes(unspec))));
    // ... but a v4 UDP send reads AF_UNSPEC bytes as an address.
    unspec.sin_port = htons(9);
    unspec.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    auto send_unspec = parse_socket_address(AF_INET, AddressUse::send, bytes(unspec));
    ASSERT_TRUE(std::holds_alternative<Endpoint>(send_unspec));
    EXPECT_EQ(std::get<Endpoint>(send_unspec), endpoint("127.0.0.1", 9));

    // An AF_INET sockaddr on an AF_INET6 datagram socket is an IPv4 destination.
    auto v4_on_v6 = parse_socket_address(AF_INET6, AddressUse::send, bytes(v4));
    ASSERT_TRUE(std::holds_alternative<Endpoint>(v4_on_v6));
    EXPECT_EQ(std::get<Endpoint>(v4_on_v6).family, AF_INET);
}

TEST(SupervisorDecisionLog, LinesRoundTripAndTheTableShowsDenials) {
    Decision d;
    d.time = "2025-01-01T00:00:00.000Z";
    d.container_id = "c\"1";
    d.pid = 42;
    d.comm = "cu\nrl";
    d.syscall = "connect";
    d.family = "inet6";
    d.address = "::1";
    d.port = 8000;
    d.verdict = "deny";
    d.rule = "host-loopback-port-not-listed";
    d.annotation = "run.tether.network.allowLocalOutboundPorts";
    std::string line = decision_to_json(d);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    auto back = decision_from_json(line);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->container_id, "c\"1");
    EXPECT_EQ(back->comm, "cu\nrl");
    EXPECT_EQ(back->port, 8000);

    Decision allowed = d;
    allowed.verdict = "allow";
    std::istringstream in(decision_to_json(allowed) + "\nnot json\n" + line + "\n");
    auto denials = read_decisions(in, 10, true);
    ASSERT_EQ(denials.size(), 1u);
    std::string table = format_decision_table(denials);
    EXPECT_NE(table.find("[::1]:8000"), std::string::npos);
    EXPECT_NE(table.find("run.tether.network.allowLocalOutboundPorts"), std::string::npos);
}

}  // namespace
}  // namespace tether::hooks
