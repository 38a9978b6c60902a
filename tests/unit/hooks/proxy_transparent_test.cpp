// Transparent egress (issue 21), the pure parts: the name in a connection's
// first bytes, and the rule that the name's own addresses must include the
// address the client really connected to.
#include <gtest/gtest.h>

#include <string>

#include "hooks/proxy/destination_policy.hpp"
#include "hooks/proxy/first_bytes.hpp"
#include "hooks/supervisor/decision.hpp"
#include "tests/unit/hooks/tls_hello_support.hpp"

namespace tether::hooks {
namespace {

using testing::client_hello;

TEST(TransparentFirstBytes, TlsServerName) {
    std::string hello = client_hello("api.example.com");
    auto seen = read_first_bytes(hello);
    EXPECT_EQ(seen.kind, FirstBytes::tls);
    EXPECT_EQ(seen.name, "api.example.com");
    // Byte by byte, it is incomplete until the last byte.
    for (size_t n = 1; n < hello.size(); ++n)
        ASSERT_EQ(read_first_bytes(hello.substr(0, n)).kind, FirstBytes::incomplete) << n;
    // No SNI: TLS, but no name.
    seen = read_first_bytes(client_hello(""));
    EXPECT_EQ(seen.kind, FirstBytes::tls);
    EXPECT_EQ(seen.name, "");
    // A hello spanning two records is reassembled.
    seen = read_first_bytes(client_hello("big.example.com", 17000));
    EXPECT_EQ(seen.kind, FirstBytes::tls);
    EXPECT_EQ(seen.name, "big.example.com");
}

TEST(TransparentFirstBytes, MalformedTlsIsUnknown) {
    std::string hello = client_hello("api.example.com");
    std::string lying = hello;
    lying[hello.size() - 17] = 0x7f;  // the SNI entry's length now runs past its list
    EXPECT_EQ(read_first_bytes(lying).kind, FirstBytes::unknown);
    std::string not_hello = hello;
    not_hello[5] = 0x02;  // a ServerHello
    EXPECT_EQ(read_first_bytes(not_hello).kind, FirstBytes::unknown);
    EXPECT_EQ(read_first_bytes(std::string("\x16\x03\x01\x00\x00", 5)).kind, FirstBytes::unknown);
}

TEST(TransparentFirstBytes, HttpHost) {
    auto seen = read_first_bytes("GET /x HTTP/1.1\r\nUser-Agent: t\r\nHost: www.Example.com:8080\r\n\r\n");
    EXPECT_EQ(seen.kind, FirstBytes::http);
    EXPECT_EQ(seen.name, "www.Example.com");
    EXPECT_EQ(read_first_bytes("GET /x HTTP/1.1\r\nHost: a.test\r\n").kind, FirstBytes::incomplete);
    EXPECT_EQ(read_first_bytes("GE").kind, FirstBytes::incomplete);
    seen = read_first_bytes("GET /x HTTP/1.0\r\n\r\n");
    EXPECT_EQ(seen.kind, FirstBytes::http);
    EXPECT_EQ(seen.name, "");
    // Two Host headers: which would the server believe? Neither is.
    EXPECT_EQ(read_first_bytes("GET / HTTP/1.1\r\nHost: a.test\r\nhost: b.test\r\n\r\n").kind, FirstBytes::unknown);
    // Anything else: an SSH banner, binary.
    EXPECT_EQ(read_first_bytes("SSH-2.0-OpenSSH_9.2\r\n").kind, FirstBytes::unknown);
    EXPECT_EQ(read_first_bytes(std::string("\x00\x00\x00\x08\x04\xd2\x16\x2f", 8)).kind, FirstBytes::unknown);
}

SocketAddress ip(const char* text, uint16_t port = 443) { return *SocketAddress::parse_ip(text, port); }

TEST(TransparentRule, TheNameMustResolveToTheOriginalDestination) {
    ProxyConfig config;
    config.allowed_domains = {"allowed.test"};
    config.allow_private_upstreams = {"192.0.2.0/24"};
    DestinationPolicy policy(config);
    auto verdict = policy.check_host("allowed.test", 443);
    ASSERT_TRUE(verdict.allowed);

    auto at_home = policy.confirm_original(verdict, ip("192.0.2.10"), {ip("2001:db8::1"), ip("192.0.2.10")});
    EXPECT_TRUE(at_home.allowed);
    ASSERT_TRUE(at_home.address);
    EXPECT_EQ(at_home.address->to_string(), "192.0.2.10:443");
    // The client's v4-mapped spelling of the same address.
    EXPECT_TRUE(policy.confirm_original(verdict, ip("::ffff:192.0.2.10"), {ip("192.0.2.10")}).allowed);

    // Fronting: an allowed name at an address that is not its own.
    auto fronted = policy.confirm_original(verdict, ip("192.0.2.99"), {ip("192.0.2.10")});
    EXPECT_FALSE(fronted.allowed);
    EXPECT_EQ(fronted.rule, "name-not-at-destination:192.0.2.99");
    EXPECT_EQ(fronted.annotation, "run.tether.network.allowedDomains");

    // Its own address, but private and not covered by allowPrivateUpstreams.
    auto private_address = policy.confirm_original(verdict, ip("10.1.2.3"), {ip("10.1.2.3")});
    EXPECT_FALSE(private_address.allowed);
    EXPECT_EQ(private_address.rule, "private-address:private:10.1.2.3");
    EXPECT_EQ(private_address.annotation, "run.tether.network.allowPrivateUpstreams");

    // A refused name stays refused.
    auto other = policy.check_host("other.test", 443);
    EXPECT_FALSE(policy.confirm_original(other, ip("192.0.2.10"), {ip("192.0.2.10")}).allowed);
}

TEST(TransparentRule, AllowedHostsAdmitTheirNameOnTheirPortOnly) {
    ProxyConfig config;
    config.allowed_hosts = {{"Git.Example.com", 22}, {"192.0.2.5", 5432}};
    config.denied_domains = {"bad.example.com"};
    DestinationPolicy policy(config);
    auto ssh = policy.check_host("git.example.com", 22);
    EXPECT_TRUE(ssh.allowed);
    EXPECT_EQ(ssh.rule, "allowedHosts:git.example.com:22");
    EXPECT_FALSE(policy.check_host("git.example.com", 443).allowed);
    EXPECT_TRUE(policy.check_host("192.0.2.5", 5432).allowed);
    EXPECT_FALSE(policy.check_host("192.0.2.5", 5433).allowed);
    ASSERT_EQ(policy.allowed_hosts().size(), 2u);
    EXPECT_EQ(policy.allowed_hosts()[0].host, "git.example.com");
}

// The supervisor decides only where no kernel program redirects: a direct
// TCP connect it let through would leave unchecked.
TEST(TransparentRule, TheSupervisorNeverLetsDirectTcpThrough) {
    SupervisorPolicy policy;
    policy.transparent_port = 3129;
    DecisionRequest request;
    request.destination.family = AF_INET;
    request.destination.bytes = {192, 0, 2, 10};
    request.destination.port = 443;
    Verdict v = decide(policy, request);
    EXPECT_FALSE(v.allowed);
    EXPECT_EQ(v.rule, "direct-egress");
}

}  // namespace
}  // namespace tether::hooks
