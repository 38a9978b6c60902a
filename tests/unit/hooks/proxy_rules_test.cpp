// Pure decisions of the egress proxy: domain rules, address classes, CIDRs.
#include <gtest/gtest.h>

#include "hooks/proxy/address_class.hpp"
#include "hooks/proxy/destination_policy.hpp"
#include "hooks/proxy/domain_rules.hpp"
#include "runtime/core/error.hpp"

namespace tether::hooks {
namespace {

TEST(ProxyDomainRules, IdnaNamesCompareInAsciiForm) {
    EXPECT_EQ(idna_to_ascii("bücher.example"), "xn--bcher-kva.example");
    EXPECT_EQ(normalize_host_name("BÜCHER.example."), "xn--bcher-kva.example");
    EXPECT_EQ(normalize_host_name("Example.COM."), "example.com");
    EXPECT_EQ(normalize_host_name(""), std::nullopt);
    EXPECT_EQ(normalize_host_name("."), std::nullopt);
    EXPECT_EQ(normalize_host_name("evil.com/x"), std::nullopt);
    EXPECT_EQ(normalize_domain_pattern("*.Bücher.Example."), "*.xn--bcher-kva.example");
}

struct DomainCase {
    const char* name;
    bool allowed;
    const char* rule;
};

TEST(ProxyDomainRules, MatchingTable) {
    ProxyConfig config;
    config.allowed_domains = {"example.com", "*.api.test", "bücher.example", "*.corp.test"};
    config.denied_domains = {"ads.corp.test", "*.evil.corp.test"};
    DestinationPolicy policy(config);
    const DomainCase cases[] = {
        {"example.com", true, "allowedDomains:example.com"},
        {"EXAMPLE.com.", true, "allowedDomains:example.com"},
        {"www.example.com", false, "not-in-allowedDomains"},  // no wildcard: exact only
        {"v1.api.test", true, "allowedDomains:*.api.test"},
        {"a.b.api.test", true, "allowedDomains:*.api.test"},
        {"api.test", false, "not-in-allowedDomains"},  // "*." is subdomains only
        {"xapi.test", false, "not-in-allowedDomains"},
        {"xn--bcher-kva.example", true, "allowedDomains:xn--bcher-kva.example"},
        {"Bücher.example", true, "allowedDomains:xn--bcher-kva.example"},
        {"ads.corp.test", false, "deniedDomains:ads.corp.test"},  // deny wins over *.corp.test
        {"ADS.corp.test.", false, "deniedDomains:ads.corp.test"},
        {"x.evil.corp.test", false, "deniedDomains:*.evil.corp.test"},
        {"evil.corp.test", true, "allowedDomains:*.corp.test"},
        {"example.com.evil.net", false, "not-in-allowedDomains"},
        {"10.0.0.1", false, "ip-literal-not-listed"},
        {"[::1]", false, "ip-literal-not-listed"},
    };
    for (const auto& c : cases) {
        DestinationVerdict verdict = policy.check_host(c.name, 443);
        EXPECT_EQ(verdict.allowed, c.allowed) << c.name;
        EXPECT_EQ(verdict.rule, c.rule) << c.name;
        if (!c.allowed) {
            EXPECT_FALSE(verdict.annotation.empty()) << c.name;
        }
    }
}

TEST(ProxyDomainRules, IpLiteralAllowedOnlyWhenListed) {
    ProxyConfig config;
    config.allowed_domains = {"203.0.113.7", "[2001:db8::1]"};
    config.allowed_ip_literals = {"198.51.100.0/24"};
    DestinationPolicy policy(config);
    EXPECT_TRUE(policy.check_host("203.0.113.7", 80).allowed);
    EXPECT_TRUE(policy.check_host("[2001:db8::1]", 80).allowed);
    EXPECT_TRUE(policy.check_host("198.51.100.9", 80).allowed);
    EXPECT_FALSE(policy.check_host("203.0.113.8", 80).allowed);
}

TEST(ProxyDomainRules, InvalidPatternOrCidrIsAnError) {
    ProxyConfig bad_cidr;
    bad_cidr.allow_private_upstreams = {"10.0.0.0/33"};
    EXPECT_THROW(DestinationPolicy{bad_cidr}, tether::Error);
    ProxyConfig bad_pattern;
    bad_pattern.allowed_domains = {"exa mple.com"};
    EXPECT_THROW(DestinationPolicy{bad_pattern}, tether::Error);
}

SocketAddress ip(const char* text) { return *SocketAddress::parse_ip(text, 443); }

TEST(ProxyAddressClass, ClassificationTable) {
    const std::pair<const char*, AddressClass> cases[] = {
        {"93.184.216.34", AddressClass::public_unicast},
        {"2606:2800:220:1::1", AddressClass::public_unicast},
        {"127.0.0.1", AddressClass::loopback},
        {"127.255.0.9", AddressClass::loopback},
        {"::1", AddressClass::loopback},
        {"::ffff:127.0.0.1", AddressClass::loopback},  // IPv4-mapped loopback
        {"169.254.169.254", AddressClass::link_local},  // cloud metadata
        {"fe80::1", AddressClass::link_local},
        {"febf::1", AddressClass::link_local},
        {"::ffff:169.254.169.254", AddressClass::link_local},
        {"64:ff9b::a9fe:a9fe", AddressClass::link_local},  // NAT64 of 169.254.169.254
        {"10.1.2.3", AddressClass::private_network},
        {"172.16.0.1", AddressClass::private_network},
        {"172.31.255.255", AddressClass::private_network},
        {"172.32.0.1", AddressClass::public_unicast},
        {"192.168.1.1", AddressClass::private_network},
        {"fd00::1", AddressClass::private_network},
        {"fc00::1", AddressClass::private_network},
        {"100.64.0.1", AddressClass::shared_cgnat},
        {"100.127.255.255", AddressClass::shared_cgnat},
        {"100.128.0.1", AddressClass::public_unicast},
        {"0.0.0.0", AddressClass::unspecified},
        {"::", AddressClass::unspecified},
        {"224.0.0.1", AddressClass::multicast},
        {"ff02::1", AddressClass::multicast},
        {"255.255.255.255", AddressClass::reserved},
    };
    for (const auto& [text, expected] : cases)
        EXPECT_EQ(address_class_name(classify_address(ip(text))), address_class_name(expected)) << text;
}

TEST(ProxyAddressClass, CidrContainment) {
    auto loopback = *Cidr::parse("127.0.0.0/8");
    EXPECT_TRUE(loopback.contains(ip("127.0.0.1")));
    EXPECT_TRUE(loopback.contains(ip("::ffff:127.1.2.3")));
    EXPECT_FALSE(loopback.contains(ip("128.0.0.1")));
    EXPECT_FALSE(loopback.contains(ip("::1")));
    auto v6 = *Cidr::parse("fd00::/8");
    EXPECT_TRUE(v6.contains(ip("fd12::1")));
    EXPECT_FALSE(v6.contains(ip("fe00::1")));
    auto host = *Cidr::parse("10.0.0.5");
    EXPECT_TRUE(host.contains(ip("10.0.0.5")));
    EXPECT_FALSE(host.contains(ip("10.0.0.6")));
    auto odd = *Cidr::parse("100.64.0.0/10");
    EXPECT_TRUE(odd.contains(ip("100.127.1.1")));
    EXPECT_FALSE(odd.contains(ip("100.128.1.1")));
    EXPECT_FALSE(Cidr::parse("10.0.0.0/").has_value());
    EXPECT_FALSE(Cidr::parse("banana/8").has_value());
}

TEST(ProxyAddressClass, PrivateUpstreamsRefusedUnlessListed) {
    ProxyConfig config;
    config.allowed_domains = {"svc.test"};
    config.allow_private_upstreams = {"127.0.0.0/8"};
    DestinationPolicy policy(config);
    DestinationVerdict name = policy.check_host("svc.test", 80);
    ASSERT_TRUE(name.allowed);
    auto metadata = policy.choose_address(name, {ip("169.254.169.254")});
    EXPECT_FALSE(metadata.allowed);
    EXPECT_EQ(metadata.rule, "private-address:link-local:169.254.169.254");
    EXPECT_EQ(metadata.annotation, "run.tether.network.allowPrivateUpstreams");
    EXPECT_NE(metadata.explanation().find("svc.test"), std::string::npos);
    // The first acceptable address is the one to dial; refused ones are skipped.
    auto mixed = policy.choose_address(name, {ip("10.0.0.1"), ip("127.0.0.1")});
    ASSERT_TRUE(mixed.allowed);
    EXPECT_EQ(mixed.address->ip_string(), "127.0.0.1");
    EXPECT_FALSE(policy.choose_address(name, {ip("::ffff:10.0.0.1")}).allowed);
    EXPECT_EQ(policy.choose_address(name, {}).rule, "no-address");
}

}  // namespace
}  // namespace tether::hooks
