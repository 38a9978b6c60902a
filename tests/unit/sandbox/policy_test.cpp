// The sandbox policy parser: every format rule and every error message a user
// can meet, from annotations, from run.tether.policy and from --default-policy.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <stdexcept>

#include "spec/parse_error.hpp"
#include "spec/policy.hpp"
#include "tests/unit/error_message.hpp"

namespace tether::spec {
namespace {

using Annotations = std::map<std::string, std::string>;

std::string no_files(const std::string& path) { throw std::runtime_error("no such file"); }

SandboxPolicy parse(const Annotations& annotations,
                    const std::optional<std::string>& default_policy = std::nullopt,
                    const PolicyFileReader& read_file = no_files) {
    return parse_policy(annotations, default_policy, read_file);
}

// The message of the ParseError that parsing throws, or "" when it parses.
std::string error_of(const Annotations& annotations,
                     const std::optional<std::string>& default_policy = std::nullopt,
                     const PolicyFileReader& read_file = no_files) {
    return test_support::error_message<ParseError>([&] { parse(annotations, default_policy, read_file); });
}

std::string error_of_annotation(const std::string& key, const std::string& value) {
    return error_of({{"run.tether." + key, value}});
}

// --- presence -------------------------------------------------------------

TEST(Policy, NoAnnotationsMeansNoSandbox) {
    const auto policy = parse({{"org.opencontainers.image.title", "x"}});
    EXPECT_FALSE(policy.active());
    EXPECT_FALSE(policy.network.enabled);
}

TEST(Policy, AnyTetherAnnotationMakesASandboxWithDefaults) {
    const auto policy = parse({{"run.tether.sandbox.bestEffort", "false"}});
    EXPECT_TRUE(policy.active());
    EXPECT_FALSE(policy.network.enabled);
    EXPECT_EQ(policy.sandbox.mode, SandboxMode::enforce);
    EXPECT_FALSE(policy.sandbox.best_effort);
    EXPECT_FALSE(policy.sandbox.scope_signals.has_value());
    EXPECT_FALSE(policy.sandbox.log_path.has_value());
    EXPECT_FALSE(policy.network.allow_dns);
    EXPECT_FALSE(policy.network.allow_bind_ports.has_value());
}

TEST(Policy, AnyNetworkKeyTurnsOnDefaultDenyNetworking) {
    EXPECT_TRUE(parse({{"run.tether.network.allowDNS", "false"}}).network.enabled);
    EXPECT_TRUE(parse({{"run.tether.network.allowedDomains", ""}}).network.enabled);
    EXPECT_FALSE(parse({{"run.tether.filesystem.allowWrite", "/tmp"}}).network.enabled);
}

TEST(Policy, DefaultPolicyAloneMakesASandbox) {
    EXPECT_TRUE(parse({}, "{}").active());
}

TEST(Policy, UnknownAnnotationIsAnError) {
    EXPECT_EQ(error_of({{"run.tether.bogus", "1"}}), "run.tether.bogus: unknown annotation");
    EXPECT_EQ(error_of({{"run.tether.network.allowedPorts", "1"}}),
              "run.tether.network.allowedPorts: unknown annotation");
}

TEST(Policy, KeysAreCaseSensitive) {
    EXPECT_EQ(error_of({{"run.tether.network.allowdns", "true"}}),
              "run.tether.network.allowdns: unknown annotation");
}

// --- ports ------------------------------------------------------------------

TEST(PolicyPorts, SinglePortsAndRangesWithBlanksTrimmed) {
    const auto policy =
        parse({{"run.tether.network.allowLocalOutboundPorts", " 5432, 6379 ,8000-8010 "}});
    EXPECT_EQ(policy.network.allow_local_outbound_ports,
              (std::vector<PortRange>{{5432, 5432}, {6379, 6379}, {8000, 8010}}));
}

TEST(PolicyPorts, BoundsAreOneAnd65535) {
    const auto policy = parse({{"run.tether.network.allowLocalOutboundPorts", "1,65535,1-65535"}});
    EXPECT_EQ(policy.network.allow_local_outbound_ports,
              (std::vector<PortRange>{{1, 1}, {65535, 65535}, {1, 65535}}));
}

TEST(PolicyPorts, PortOutOfRange) {
    EXPECT_EQ(error_of_annotation("network.allowLocalOutboundPorts", "5432,70000"),
              "run.tether.network.allowLocalOutboundPorts: \"70000\" is not a port (1-65535)");
}

TEST(PolicyPorts, PortZero) {
    EXPECT_EQ(error_of_annotation("network.allowLocalOutboundPorts", "0"),
              "run.tether.network.allowLocalOutboundPorts: \"0\" is not a port (1-65535)");
}

TEST(PolicyPorts, NotANumber) {
    EXPECT_EQ(error_of_annotation("network.allowBindPorts", "http"),
              "run.tether.network.allowBindPorts: \"http\" is not a port (1-65535)");
    EXPECT_EQ(error_of_annotation("network.allowBindPorts", "+80"),
              "run.tether.network.allowBindPorts: \"+80\" is not a port (1-65535)");
    EXPECT_EQ(error_of_annotation("network.allowBindPorts", "8 0"),
              "run.tether.network.allowBindPorts: \"8 0\" is not a port (1-65535)");
}

TEST(PolicyPorts, HugeNumberDoesNotOverflowIntoAPort) {
    EXPECT_EQ(error_of_annotation("network.allowBindPorts", "4294967376"),
              "run.tether.network.allowBindPorts: \"4294967376\" is not a port (1-65535)");
}

TEST(PolicyPorts, ReversedRange) {
    EXPECT_EQ(error_of_annotation("network.allowLocalOutboundPorts", "8010-8000"),
              "run.tether.network.allowLocalOutboundPorts: \"8010-8000\" is not a port range: "
              "8010 > 8000");
}

TEST(PolicyPorts, RangeWithABadEnd) {
    EXPECT_EQ(error_of_annotation("network.allowLocalOutboundPorts", "8000-"),
              "run.tether.network.allowLocalOutboundPorts: \"8000-\" is not a port range: \"\" "
              "is not a port (1-65535)");
    EXPECT_EQ(error_of_annotation("network.allowLocalOutboundPorts", "1-2-3"),
              "run.tether.network.allowLocalOutboundPorts: \"1-2-3\" is not a port range: \"2-3\" "
              "is not a port (1-65535)");
    EXPECT_EQ(error_of_annotation("network.allowLocalOutboundPorts", "0-10"),
              "run.tether.network.allowLocalOutboundPorts: \"0-10\" is not a port range: \"0\" "
              "is not a port (1-65535)");
}

TEST(PolicyPorts, EmptyItemIsAnError) {
    EXPECT_EQ(error_of_annotation("network.allowLocalOutboundPorts", "5432,,6379"),
              "run.tether.network.allowLocalOutboundPorts: empty item in \"5432,,6379\"");
    EXPECT_EQ(error_of_annotation("network.allowLocalOutboundPorts", "5432,"),
              "run.tether.network.allowLocalOutboundPorts: empty item in \"5432,\"");
}

TEST(PolicyPorts, BlankValueIsAnEmptyList) {
    const auto policy = parse({{"run.tether.network.allowBindPorts", "  "}});
    ASSERT_TRUE(policy.network.allow_bind_ports.has_value());
    EXPECT_TRUE(policy.network.allow_bind_ports->empty());
}

TEST(PolicyPorts, DuplicatesAreDropped) {
    const auto policy = parse({{"run.tether.network.allowLocalOutboundPorts", "80,80, 80"}});
    EXPECT_EQ(policy.network.allow_local_outbound_ports, (std::vector<PortRange>{{80, 80}}));
}

TEST(PolicyPorts, BindPortsDefaultDependsOnTheNetworkMode) {
    const auto policy = parse({{"run.tether.network.allowDNS", "false"}});
    EXPECT_EQ(policy.effective_bind_ports(true), (std::vector<PortRange>{{1, 65535}}));
    EXPECT_TRUE(policy.effective_bind_ports(false).empty());
    const auto listed = parse({{"run.tether.network.allowBindPorts", "3000"}});
    EXPECT_EQ(listed.effective_bind_ports(false), (std::vector<PortRange>{{3000, 3000}}));
    EXPECT_EQ(listed.effective_bind_ports(true), (std::vector<PortRange>{{3000, 3000}}));
}

// --- booleans and enums -----------------------------------------------------

TEST(PolicyBooleans, ExactlyTrueOrFalse) {
    EXPECT_TRUE(parse({{"run.tether.network.allowDNS", "true"}}).network.allow_dns);
    EXPECT_FALSE(parse({{"run.tether.network.allowDNS", "false"}}).network.allow_dns);
    EXPECT_TRUE(parse({{"run.tether.sandbox.bestEffort", "true"}}).sandbox.best_effort);
    EXPECT_EQ(parse({{"run.tether.sandbox.scopeSignals", "false"}}).sandbox.scope_signals,
              std::optional<bool>(false));
}

TEST(PolicyBooleans, AnythingElseIsAnError) {
    EXPECT_EQ(error_of_annotation("network.allowDNS", "yes"),
              "run.tether.network.allowDNS: expected \"true\" or \"false\", got \"yes\"");
    EXPECT_EQ(error_of_annotation("sandbox.bestEffort", "True"),
              "run.tether.sandbox.bestEffort: expected \"true\" or \"false\", got \"True\"");
    EXPECT_EQ(error_of_annotation("sandbox.scopeSignals", "1"),
              "run.tether.sandbox.scopeSignals: expected \"true\" or \"false\", got \"1\"");
    EXPECT_EQ(error_of_annotation("sandbox.scopeSignals", " true"),
              "run.tether.sandbox.scopeSignals: expected \"true\" or \"false\", got \" true\"");
}

TEST(PolicyBooleans, ScopeSignalsDefaultsToTheSharedPidNamespace) {
    const auto unset = parse({{"run.tether.sandbox.mode", "enforce"}});
    EXPECT_TRUE(unset.effective_scope_signals(true));
    EXPECT_FALSE(unset.effective_scope_signals(false));
    EXPECT_TRUE(parse({{"run.tether.sandbox.scopeSignals", "true"}}).effective_scope_signals(false));
}

TEST(PolicyMode, EnforceOrAudit) {
    EXPECT_EQ(parse({{"run.tether.sandbox.mode", "audit"}}).sandbox.mode, SandboxMode::audit);
    EXPECT_TRUE(parse({{"run.tether.sandbox.mode", "audit"}}).audit());
    EXPECT_EQ(parse({{"run.tether.sandbox.mode", "enforce"}}).sandbox.mode, SandboxMode::enforce);
    EXPECT_EQ(error_of_annotation("sandbox.mode", "strict"),
              "run.tether.sandbox.mode: expected \"enforce\" or \"audit\", got \"strict\"");
    EXPECT_EQ(error_of_annotation("sandbox.mode", "Audit"),
              "run.tether.sandbox.mode: expected \"enforce\" or \"audit\", got \"Audit\"");
}

// --- paths ------------------------------------------------------------------

TEST(PolicyPaths, AbsolutePathsNormalized) {
    const auto policy = parse({{"run.tether.filesystem.allowWrite", "/work, /tmp//cache/ ,/./x/."},
                               {"run.tether.filesystem.denyRead", "/"}});
    EXPECT_EQ(policy.filesystem.allow_write,
              (std::vector<std::string>{"/work", "/tmp/cache", "/x"}));
    EXPECT_EQ(policy.filesystem.deny_read, (std::vector<std::string>{"/"}));
}

TEST(PolicyPaths, EveryPathKeyIsParsed) {
    const auto policy = parse({{"run.tether.filesystem.denyWrite", "/etc"},
                               {"run.tether.filesystem.denyRead", "/root/.ssh"},
                               {"run.tether.filesystem.allowExecute", "/usr,/bin"}});
    EXPECT_EQ(policy.filesystem.deny_write, (std::vector<std::string>{"/etc"}));
    EXPECT_EQ(policy.filesystem.deny_read, (std::vector<std::string>{"/root/.ssh"}));
    EXPECT_EQ(policy.filesystem.allow_execute, (std::vector<std::string>{"/usr", "/bin"}));
}

TEST(PolicyPaths, RelativePathIsAnError) {
    EXPECT_EQ(error_of_annotation("filesystem.allowWrite", "/work,tmp"),
              "run.tether.filesystem.allowWrite: \"tmp\" is not an absolute path");
    EXPECT_EQ(error_of_annotation("filesystem.denyRead", "~/.ssh"),
              "run.tether.filesystem.denyRead: \"~/.ssh\" is not an absolute path");
}

TEST(PolicyPaths, DotDotIsAnError) {
    EXPECT_EQ(error_of_annotation("filesystem.denyWrite", "/work/../etc"),
              "run.tether.filesystem.denyWrite: \"/work/../etc\" must not contain \"..\"");
}

TEST(PolicyPaths, DotDotInsideANameIsFine) {
    EXPECT_EQ(parse({{"run.tether.filesystem.allowWrite", "/a..b"}}).filesystem.allow_write,
              (std::vector<std::string>{"/a..b"}));
}

TEST(PolicyPaths, LogIsAnAbsolutePath) {
    EXPECT_EQ(parse({{"run.tether.log", "/var/log/tether/x.jsonl"}}).sandbox.log_path,
              std::optional<std::string>("/var/log/tether/x.jsonl"));
    EXPECT_EQ(error_of_annotation("log", "decisions.log"),
              "run.tether.log: \"decisions.log\" is not an absolute path");
}

// --- domains ----------------------------------------------------------------

TEST(PolicyDomains, PatternsLowerCasedTrailingDotDropped) {
    const auto policy = parse({{"run.tether.network.allowedDomains",
                                "Example.COM, *.pypi.org., api.github.com"},
                               {"run.tether.network.deniedDomains", "evil.example.com"}});
    EXPECT_EQ(policy.network.allowed_domains,
              (std::vector<std::string>{"example.com", "*.pypi.org", "api.github.com"}));
    EXPECT_EQ(policy.network.denied_domains, (std::vector<std::string>{"evil.example.com"}));
}

TEST(PolicyDomains, WildcardOnlyAsTheWholeFirstLabel) {
    EXPECT_EQ(error_of_annotation("network.allowedDomains", "a.*.com"),
              "run.tether.network.allowedDomains: \"a.*.com\": \"*\" is only allowed as the whole "
              "first label (\"*.example.com\")");
    EXPECT_EQ(error_of_annotation("network.allowedDomains", "*example.com"),
              "run.tether.network.allowedDomains: \"*example.com\": \"*\" is only allowed as the "
              "whole first label (\"*.example.com\")");
    EXPECT_EQ(error_of_annotation("network.deniedDomains", "*"),
              "run.tether.network.deniedDomains: \"*\": \"*\" is only allowed as the whole first "
              "label (\"*.example.com\")");
    EXPECT_EQ(error_of_annotation("network.deniedDomains", "*.."),
              "run.tether.network.deniedDomains: \"*..\" is not a domain pattern");
    EXPECT_EQ(error_of_annotation("network.deniedDomains", ""),
              "");  // a blank list is allowed: nothing denied
}

TEST(PolicyDomains, EmptyLabel) {
    EXPECT_EQ(error_of_annotation("network.allowedDomains", "a..com"),
              "run.tether.network.allowedDomains: \"a..com\" has an empty label");
    EXPECT_EQ(error_of_annotation("network.allowedDomains", ".example.com"),
              "run.tether.network.allowedDomains: \".example.com\" has an empty label");
}

TEST(PolicyDomains, BadLabelCharacters) {
    EXPECT_EQ(error_of_annotation("network.allowedDomains", "ex_ample.com"),
              "run.tether.network.allowedDomains: \"ex_ample.com\": label \"ex_ample\" must be "
              "1-63 letters, digits or \"-\", not starting or ending with \"-\"");
    EXPECT_EQ(error_of_annotation("network.allowedDomains", "-a.com"),
              "run.tether.network.allowedDomains: \"-a.com\": label \"-a\" must be 1-63 letters, "
              "digits or \"-\", not starting or ending with \"-\"");
    EXPECT_EQ(error_of_annotation("network.allowedDomains", "http://a.com"),
              "run.tether.network.allowedDomains: \"http://a.com\": label \"http://a\" must be "
              "1-63 letters, digits or \"-\", not starting or ending with \"-\"");
}

TEST(PolicyDomains, LabelLongerThan63) {
    const std::string label(64, 'a');
    EXPECT_EQ(error_of_annotation("network.allowedDomains", label + ".com"),
              "run.tether.network.allowedDomains: \"" + label + ".com\": label \"" + label +
                  "\" must be 1-63 letters, digits or \"-\", not starting or ending with \"-\"");
    EXPECT_EQ(parse({{"run.tether.network.allowedDomains", std::string(63, 'a') + ".com"}})
                  .network.allowed_domains.size(),
              1u);
}

TEST(PolicyDomains, NameLongerThan253) {
    std::string name;
    for (int i = 0; i < 5; ++i) name += std::string(60, 'a') + ".";
    name += "com";  // 308 characters
    EXPECT_EQ(error_of_annotation("network.allowedDomains", name),
              "run.tether.network.allowedDomains: \"" + name + "\" is longer than 253 characters");
}

TEST(PolicyDomains, NonAsciiNeedsPunycode) {
    EXPECT_EQ(error_of_annotation("network.allowedDomains", "b\xc3\xbc" "cher.de"),
              "run.tether.network.allowedDomains: \"b\xc3\xbc" "cher.de\" is not ASCII: use the "
              "punycode (xn--) form");
    EXPECT_EQ(parse({{"run.tether.network.allowedDomains", "xn--bcher-kva.de"}})
                  .network.allowed_domains,
              (std::vector<std::string>{"xn--bcher-kva.de"}));
}

// --- CIDRs ------------------------------------------------------------------

TEST(PolicyCidrs, Ipv4AndIpv6BlocksAndBareAddresses) {
    const auto policy =
        parse({{"run.tether.network.allowPrivateUpstreams", "10.0.0.0/8, fd00::/8,192.168.1.7"}});
    const auto& cidrs = policy.network.allow_private_upstreams;
    ASSERT_EQ(cidrs.size(), 3u);
    EXPECT_EQ(cidrs[0].text, "10.0.0.0/8");
    EXPECT_EQ(cidrs[0].family, AF_INET);
    EXPECT_EQ(cidrs[0].prefix_length, 8);
    EXPECT_EQ(cidrs[1].text, "fd00::/8");
    EXPECT_EQ(cidrs[1].family, AF_INET6);
    EXPECT_EQ(cidrs[2].text, "192.168.1.7/32");
}

TEST(PolicyCidrs, HostBitsSetIsAnError) {
    EXPECT_EQ(error_of_annotation("network.allowPrivateUpstreams", "10.0.0.1/8"),
              "run.tether.network.allowPrivateUpstreams: \"10.0.0.1/8\" has host bits set after /8");
}

TEST(PolicyCidrs, BadAddressOrPrefix) {
    EXPECT_EQ(error_of_annotation("network.allowPrivateUpstreams", "10.0.0/8"),
              "run.tether.network.allowPrivateUpstreams: \"10.0.0/8\" is not an IP address or "
              "CIDR block");
    EXPECT_EQ(error_of_annotation("network.allowPrivateUpstreams", "10.0.0.0/33"),
              "run.tether.network.allowPrivateUpstreams: \"10.0.0.0/33\": prefix length must be "
              "0-32");
    EXPECT_EQ(error_of_annotation("network.allowPrivateUpstreams", "fd00::/129"),
              "run.tether.network.allowPrivateUpstreams: \"fd00::/129\": prefix length must be "
              "0-128");
    EXPECT_EQ(error_of_annotation("network.allowPrivateUpstreams", "10.0.0.0/"),
              "run.tether.network.allowPrivateUpstreams: \"10.0.0.0/\": prefix length must be "
              "0-32");
}

// --- layers: run.tether.policy and --default-policy -------------------------

TEST(PolicyFile, StructuredFileWithTheSameFields) {
    const std::string file = R"({
        "network": {"allowLocalOutboundPorts": [5432, "8000-8010"], "allowDNS": true,
                    "allowedDomains": ["*.example.com"]},
        "filesystem": {"allowWrite": ["/work"], "denyRead": "/secrets, /root"},
        "sandbox": {"mode": "audit", "bestEffort": true},
        "log": "/var/log/tether/t.jsonl"})";
    std::string asked;
    const auto policy = parse({{"run.tether.policy", "/etc/tether/p.json"}}, std::nullopt,
                              [&](const std::string& path) {
                                  asked = path;
                                  return file;
                              });
    EXPECT_EQ(asked, "/etc/tether/p.json");
    EXPECT_TRUE(policy.active());
    EXPECT_TRUE(policy.network.enabled);
    EXPECT_EQ(policy.network.allow_local_outbound_ports,
              (std::vector<PortRange>{{5432, 5432}, {8000, 8010}}));
    EXPECT_TRUE(policy.network.allow_dns);
    EXPECT_EQ(policy.network.allowed_domains, (std::vector<std::string>{"*.example.com"}));
    EXPECT_EQ(policy.filesystem.allow_write, (std::vector<std::string>{"/work"}));
    EXPECT_EQ(policy.filesystem.deny_read, (std::vector<std::string>{"/secrets", "/root"}));
    EXPECT_TRUE(policy.audit());
    EXPECT_TRUE(policy.sandbox.best_effort);
    EXPECT_EQ(policy.sandbox.log_path, std::optional<std::string>("/var/log/tether/t.jsonl"));
}

TEST(PolicyFile, EmptyNetworkObjectTurnsOnDefaultDeny) {
    EXPECT_TRUE(parse({}, R"({"network": {}})").network.enabled);
    EXPECT_FALSE(parse({}, R"({"filesystem": {}})").network.enabled);
}

TEST(PolicyFile, ErrorsNameTheFileAndTheKey) {
    const auto reader = [](const std::string&) {
        return std::string(R"({"network": {"allowLocalOutboundPorts": [70000]}})");
    };
    EXPECT_EQ(error_of({{"run.tether.policy", "/p.json"}}, std::nullopt, reader),
              "run.tether.policy /p.json: network.allowLocalOutboundPorts: \"70000\" is not a "
              "port (1-65535)");
    EXPECT_EQ(error_of({}, R"({"sandbox": {"mode": "strict"}})"),
              "--default-policy: sandbox.mode: expected \"enforce\" or \"audit\", got \"strict\"");
}

TEST(PolicyFile, UnknownKeysInAFile) {
    EXPECT_EQ(error_of({}, R"({"network": {"bogus": 1}})"), "--default-policy: network.bogus: unknown key");
    EXPECT_EQ(error_of({}, R"({"networking": {}})"), "--default-policy: networking: unknown key");
    EXPECT_EQ(error_of({}, R"({"network": {"bogus": {}}})"), "--default-policy: network.bogus: unknown key");
    EXPECT_EQ(error_of({}, R"({"policy": "/x.json"})"), "--default-policy: policy: unknown key");
}

TEST(PolicyFile, ShapeErrors) {
    EXPECT_EQ(error_of({}, "[1]"), "--default-policy: expected a JSON object");
    EXPECT_EQ(error_of({}, R"({"network": [1]})"), "--default-policy: network: expected an object");
    EXPECT_EQ(error_of({}, R"({"log": null})"),
              "--default-policy: log: expected a string, number, boolean or array");
    EXPECT_EQ(error_of({}, R"({"network": {"allowBindPorts": [[1]]}})"),
              "--default-policy: network.allowBindPorts[0]: expected a string, number or boolean");
    EXPECT_EQ(error_of({}, R"({"sandbox": {"mode": ["audit"]}})"),
              "--default-policy: sandbox.mode: expected a single value, got a list");
    EXPECT_EQ(error_of({}, R"({"network": {"allowBindPorts": [" "]}})"),
              "--default-policy: network.allowBindPorts: empty item in list");
    EXPECT_EQ(error_of({}, R"({"network": {"allowBindPorts": [80.5]}})"),
              "--default-policy: network.allowBindPorts: \"80.5\" is not a port (1-65535)");
}

TEST(PolicyFile, InvalidJsonIsNamed) {
    EXPECT_THAT(error_of({}, "{nope"), ::testing::StartsWith("--default-policy: not valid JSON (at byte "));
}

TEST(PolicyFile, PolicyFilePathMustBeAbsoluteAndReadable) {
    EXPECT_EQ(error_of({{"run.tether.policy", "p.json"}}),
              "run.tether.policy: \"p.json\" is not an absolute path");
    EXPECT_EQ(error_of({{"run.tether.policy", "/missing.json"}}),
              "run.tether.policy: cannot read /missing.json: no such file");
}

TEST(PolicyLayers, AnnotationsOverrideTheFileWhichOverridesTheDefaultKeyByKey) {
    const std::string default_policy = R"({
        "network": {"allowLocalOutboundPorts": [1111], "allowDNS": true},
        "sandbox": {"bestEffort": true}})";
    const auto reader = [](const std::string&) {
        return std::string(R"({"network": {"allowLocalOutboundPorts": [2222]},
                               "filesystem": {"allowWrite": ["/file"]}})");
    };
    const auto policy = parse({{"run.tether.policy", "/p.json"},
                               {"run.tether.filesystem.allowWrite", "/annotation"}},
                              default_policy, reader);
    // The file replaced the default's port list (lists are replaced, not merged).
    EXPECT_EQ(policy.network.allow_local_outbound_ports, (std::vector<PortRange>{{2222, 2222}}));
    // Keys the later layers do not name keep the default's value.
    EXPECT_TRUE(policy.network.allow_dns);
    EXPECT_TRUE(policy.sandbox.best_effort);
    EXPECT_EQ(policy.filesystem.allow_write, (std::vector<std::string>{"/annotation"}));
}

TEST(PolicyLayers, AnAnnotationCanClearADefaultList) {
    const auto policy = parse({{"run.tether.network.allowLocalOutboundPorts", ""}},
                              R"({"network": {"allowLocalOutboundPorts": [5432]}})");
    EXPECT_TRUE(policy.network.allow_local_outbound_ports.empty());
}

TEST(PolicyLayers, ABadDefaultValueOverriddenByAnAnnotationIsNotAnError) {
    // The overridden value never takes effect, so it is not parsed.
    const auto policy =
        parse({{"run.tether.sandbox.mode", "audit"}}, R"({"sandbox": {"mode": "strict"}})");
    EXPECT_TRUE(policy.audit());
}

}  // namespace
}  // namespace tether::spec
