// Transparent egress and allowedHosts (issue 21): the keys, their formats,
// their errors, the default and the administrator's switch.
#include <gtest/gtest.h>

#include <algorithm>

#include <stdexcept>

#include "spec/admin_config.hpp"
#include "spec/parse_error.hpp"
#include "spec/policy.hpp"
#include "tests/unit/error_message.hpp"

namespace tether::spec {
namespace {

using Annotations = std::map<std::string, std::string>;

std::string no_files(const std::string&) { throw std::runtime_error("no such file"); }

SandboxPolicy parse(const Annotations& annotations, const AdminConfig& admin = AdminConfig{}) {
    return parse_policy(annotations, std::nullopt, no_files, admin);
}

std::string error_of(const Annotations& annotations, const AdminConfig& admin = AdminConfig{}) {
    return test_support::error_message<ParseError>([&] { parse(annotations, admin); });
}

TEST(PolicyAllowedHosts, NamesAndLiteralsWithTheirPort) {
    auto policy = parse({{"run.tether.network.allowedHosts", "Git.Example.com.:22, 192.0.2.7:5432,[2001:db8::1]:6379"}});
    EXPECT_EQ(policy.network.allowed_hosts,
              (std::vector<HostPort>{{"git.example.com", 22}, {"192.0.2.7", 5432}, {"2001:db8::1", 6379}}));
    // A policy file's list works the same.
    auto from_file = parse_policy({}, std::string(R"({"network": {"allowedHosts": ["db.internal:5432"]}})"), no_files);
    EXPECT_EQ(from_file.network.allowed_hosts, (std::vector<HostPort>{{"db.internal", 5432}}));
}

TEST(PolicyAllowedHosts, ErrorsNameTheItem) {
    const std::string key = "run.tether.network.allowedHosts";
    EXPECT_EQ(error_of({{key, "git.example.com"}}),
              key + ": \"git.example.com\" is not host:port (the port is required, e.g. git.example.com:22)");
    EXPECT_EQ(error_of({{key, "git.example.com:0"}}), key + ": \"git.example.com:0\": \"0\" is not a port (1-65535)");
    EXPECT_EQ(error_of({{key, "*.example.com:22"}}), key + ": \"*.example.com:22\": a wildcard names no single host");
    EXPECT_EQ(error_of({{key, "2001:db8::1:22"}}),
              key + ": \"2001:db8::1:22\" is not host:port (the port is required, e.g. git.example.com:22)");
    EXPECT_NE(error_of({{key, "bad_name:22"}}), "");
}

TEST(PolicyTransparent, OnWithDomainsOrHostsUnlessTurnedOff) {
    EXPECT_FALSE(parse({{"run.tether.network.allowLocalOutboundPorts", "5432"}}).network.transparent_egress());
    EXPECT_TRUE(parse({{"run.tether.network.allowedDomains", "example.com"}}).network.transparent_egress());
    EXPECT_TRUE(parse({{"run.tether.network.allowedHosts", "git.example.com:22"}}).network.transparent_egress());
    EXPECT_FALSE(parse({{"run.tether.network.allowedDomains", "example.com"}, {"run.tether.network.transparent", "false"}})
                     .network.transparent_egress());
    EXPECT_EQ(error_of({{"run.tether.network.transparent", "off"}}),
              "run.tether.network.transparent: expected \"true\" or \"false\", got \"off\"");
}

TEST(PolicyTransparent, TheAdministratorTurnsItOffForEveryone) {
    EXPECT_TRUE(parse_admin_config("/etc/tether/admin.json", "{}").transparent_egress);
    EXPECT_FALSE(parse_admin_config("/etc/tether/admin.json", R"({"transparentEgress": false})").transparent_egress);
    try {
        parse_admin_config("/etc/tether/admin.json", R"({"transparentEgress": "no"})");
        FAIL() << "accepted a string";
    } catch (const ParseError& e) {
        EXPECT_STREQ(e.what(), "/etc/tether/admin.json: transparentEgress: expected true or false");
    }
}

TEST(PolicyAllowedHosts, TheCeilingListsEachHostAndPort) {
    AdminConfig admin = parse_admin_config(
        "/etc/tether/admin.json", R"({"ceiling": {"network": {"allowedHosts": ["git.example.com:22"]}}})");
    EXPECT_EQ(error_of({{"run.tether.network.allowedHosts", "git.example.com:22"}}, admin), "");
    EXPECT_EQ(error_of({{"run.tether.network.allowedHosts", "git.example.com:2222"}}, admin),
              "run.tether.network.allowedHosts: git.example.com:2222 is beyond the ceiling git.example.com:22 of "
              "/etc/tether/admin.json");
    // Turning transparent egress off narrows: always accepted.
    EXPECT_EQ(error_of({{"run.tether.network.transparent", "false"}}, admin), "");
    EXPECT_EQ(error_of({{"run.tether.network.transparent", "true"}}, admin), "");
    AdminConfig off = parse_admin_config("/etc/tether/admin.json",
                                         R"({"ceiling": {"network": {"transparent": false}}})");
    EXPECT_EQ(error_of({{"run.tether.network.transparent", "true"}}, off),
              "run.tether.network.transparent: true is beyond the ceiling false of /etc/tether/admin.json");
}

TEST(PolicyAllowedHosts, ItLoosensASandbox) {
    auto names = loosening_annotations();
    EXPECT_NE(std::find(names.begin(), names.end(), "run.tether.network.allowedHosts"), names.end());
    EXPECT_NE(std::find(names.begin(), names.end(), "run.tether.network.transparent"), names.end());
}

}  // namespace
}  // namespace tether::spec
