// The administrator's file: a ceiling that annotations may only narrow, the
// keys a workload may set, the directories its host paths may point into.
#include <gtest/gtest.h>

#include "spec/admin_config.hpp"
#include "spec/parse_error.hpp"
#include "spec/policy.hpp"
#include "tests/unit/error_message.hpp"

namespace tether::spec {
namespace {

using Annotations = std::map<std::string, std::string>;

const char* kAdmin = R"({
    "ceiling": {
        "network": {"allowLocalOutboundPorts": "5432,8000-8010", "allowedDomains": ["pypi.org", "*.example.com"],
                    "allowPrivateUpstreams": ["10.0.0.0/8"], "allowBindPorts": "9000-9100"},
        "filesystem": {"allowWrite": ["/work", "/tmp"], "allowExecute": ["/usr", "/bin"]}
    },
    "policyDirectories": ["/etc/tether/policies"],
    "logDirectories": ["/var/log/tether", "/srv/audit"],
    "defaultPolicy": {"network": {"allowLocalOutboundPorts": "5432"}}
})";

AdminConfig admin(const char* text = kAdmin) { return parse_admin_config("/etc/tether/admin.json", text); }

std::string error_of(const Annotations& annotations, const AdminConfig& a = admin(),
                     const std::string& file = "{}") {
    return test_support::error_message<ParseError>(
        [&] { parse_policy(annotations, std::nullopt, [&](const std::string&) { return file; }, a); });
}

TEST(PolicyCeiling, AnnotationsThatNarrowAreAccepted) {
    for (const Annotations& narrow : std::vector<Annotations>{
             {{"run.tether.network.allowLocalOutboundPorts", "5432,8001-8003"}},
             {{"run.tether.network.allowLocalOutboundPorts", ""}},
             {{"run.tether.network.allowedDomains", "pypi.org,api.example.com,*.a.example.com,*.example.com"}},
             {{"run.tether.network.deniedDomains", "evil.com"}},
             {{"run.tether.network.allowPrivateUpstreams", "10.1.0.0/16"}},
             {{"run.tether.network.allowBindPorts", "9000,9050-9100"}},
             {{"run.tether.filesystem.allowWrite", "/work/out,/tmp"}},
             {{"run.tether.filesystem.allowExecute", "/usr/bin"}},
             {{"run.tether.filesystem.denyRead", "/etc"}},
             {{"run.tether.sandbox.mode", "enforce"}},
             {{"run.tether.log", "/srv/audit/x.jsonl"}}}) {
        SCOPED_TRACE(narrow.begin()->first + "=" + narrow.begin()->second);
        EXPECT_EQ(error_of(narrow), "");
    }
}

TEST(PolicyCeiling, AnnotationsThatWidenFailNamingTheCeiling) {
    const std::string src = " of /etc/tether/admin.json";
    struct Case {
        Annotations annotations;
        std::string error;
    } cases[] = {
        {{{"run.tether.network.allowLocalOutboundPorts", "1-65535"}},
         "run.tether.network.allowLocalOutboundPorts: 1-65535 is beyond the ceiling 5432,8000-8010" + src},
        {{{"run.tether.network.allowLocalOutboundPorts", "8005-8011"}},
         "run.tether.network.allowLocalOutboundPorts: 8005-8011 is beyond the ceiling 5432,8000-8010" + src},
        {{{"run.tether.network.allowedDomains", "example.com"}},
         "run.tether.network.allowedDomains: example.com is beyond the ceiling pypi.org,*.example.com" + src},
        {{{"run.tether.network.allowedDomains", "*.org"}},
         "run.tether.network.allowedDomains: *.org is beyond the ceiling pypi.org,*.example.com" + src},
        {{{"run.tether.network.allowPrivateUpstreams", "10.0.0.0/7"}},
         "run.tether.network.allowPrivateUpstreams: 10.0.0.0/7 is beyond the ceiling 10.0.0.0/8" + src},
        {{{"run.tether.network.allowDNS", "true"}}, "run.tether.network.allowDNS: true is beyond the ceiling false" + src},
        {{{"run.tether.network.allowBindPorts", "80"}},
         "run.tether.network.allowBindPorts: 80 is beyond the ceiling 9000-9100" + src},
        {{{"run.tether.filesystem.allowWrite", "/"}}, "run.tether.filesystem.allowWrite: / is beyond the ceiling /work,/tmp" + src},
        {{{"run.tether.filesystem.allowWrite", "/workshop"}},
         "run.tether.filesystem.allowWrite: /workshop is beyond the ceiling /work,/tmp" + src},
        {{{"run.tether.filesystem.allowExecute", "/tmp"}},
         "run.tether.filesystem.allowExecute: /tmp is beyond the ceiling /usr,/bin" + src},
        {{{"run.tether.sandbox.mode", "audit"}}, "run.tether.sandbox.mode: audit is beyond the ceiling enforce" + src},
        {{{"run.tether.sandbox.bestEffort", "true"}}, "run.tether.sandbox.bestEffort: true is beyond the ceiling false" + src},
        {{{"run.tether.sandbox.scopeSignals", "false"}},
         "run.tether.sandbox.scopeSignals: false is beyond the ceiling true" + src},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.annotations.begin()->first);
        EXPECT_EQ(error_of(c.annotations), c.error);
    }
}

TEST(PolicyCeiling, ThePolicyFileANamedByAWorkloadIsHeldToo) {
    EXPECT_EQ(error_of({{"run.tether.policy", "/etc/tether/policies/p.json"}}, admin(),
                       R"({"network": {"allowLocalOutboundPorts": [22]}})"),
              "run.tether.policy /etc/tether/policies/p.json: network.allowLocalOutboundPorts: 22 is beyond the "
              "ceiling 5432,8000-8010 of /etc/tether/admin.json");
}

TEST(PolicyCeiling, TheAdministratorsDefaultIsNotHeldToTheCeiling) {
    AdminConfig a = admin(R"({"ceiling": {}, "defaultPolicy": {"network": {"allowLocalOutboundPorts": "1-65535"}}})");
    SandboxPolicy p = parse_policy({}, std::nullopt, [](const std::string&) { return std::string(); }, a);
    EXPECT_TRUE(p.present);
    ASSERT_EQ(p.network.allow_local_outbound_ports.size(), 1u);
    // --default-policy (the client's runtime entry) replaces the file's default.
    p = parse_policy({}, std::string(R"({"network": {"allowDNS": true}})"),
                     [](const std::string&) { return std::string(); }, a);
    EXPECT_TRUE(p.network.allow_local_outbound_ports.empty());
    EXPECT_TRUE(p.network.allow_dns);
}

TEST(PolicyCeiling, KeysTheAdministratorDoesNotListAreRefused) {
    AdminConfig a = admin(R"({"workloadKeys": ["network.allowLocalOutboundPorts", "run.tether.filesystem.denyRead"]})");
    EXPECT_EQ(error_of({{"run.tether.network.allowLocalOutboundPorts", "1"}, {"run.tether.filesystem.denyRead", "/x"}}, a),
              "");
    EXPECT_EQ(error_of({{"run.tether.sandbox.mode", "audit"}}, a),
              "run.tether.sandbox.mode: not allowed for workloads by /etc/tether/admin.json (workloadKeys)");
}

TEST(PolicyCeiling, PolicyFilesAndLogsOnlyInTheAdministratorsDirectories) {
    EXPECT_EQ(error_of({{"run.tether.policy", "/etc/shadow"}}),
              "run.tether.policy: /etc/shadow is outside the policy directories of /etc/tether/admin.json "
              "(/etc/tether/policies)");
    EXPECT_EQ(error_of({{"run.tether.log", "/etc/cron.d/x"}}),
              "run.tether.log: /etc/cron.d/x is outside the log directories (/var/log/tether,/srv/audit) of "
              "/etc/tether/admin.json");
    // Without an administrator's file: policy files anywhere (the caller is
    // trusted), logs only in /var/log/tether.
    EXPECT_EQ(error_of({{"run.tether.policy", "/srv/p.json"}}, AdminConfig{}), "");
    EXPECT_EQ(error_of({{"run.tether.log", "/tmp/x.jsonl"}}, AdminConfig{}),
              "run.tether.log: /tmp/x.jsonl is outside the log directories (/var/log/tether)");
}

TEST(PolicyCeiling, APolicyFileThatIsNotJsonIsNotQuoted) {
    std::string error = error_of({{"run.tether.policy", "/etc/tether/policies/shadow"}}, admin(),
                                 "root:$6$secret-hash:19000:0:99999:7:::\n");
    EXPECT_EQ(error.find("secret"), std::string::npos) << error;
    EXPECT_EQ(error.find("root"), std::string::npos) << error;
    EXPECT_NE(error.find("not valid JSON"), std::string::npos) << error;
}

TEST(AdminConfigFile, BadFilesNameTheKey) {
    auto error = [](const char* text) {
        try {
            parse_admin_config("/a.json", text);
        } catch (const ParseError& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    EXPECT_EQ(error("{\"ceiling\": 3}"), "/a.json: ceiling: expected an object (the structured policy form)");
    EXPECT_EQ(error("{\"logDirectories\": [\"var/log\"]}"), "/a.json: logDirectories[0]: \"var/log\" is not an absolute path");
    EXPECT_EQ(error("{\"nope\": 1}"), "/a.json: nope: unknown key");
    EXPECT_EQ(error("secret bytes"), "/a.json: not valid JSON");
    EXPECT_EQ(error("{\"decisionLogRotateBytes\": 10}"),
              "/a.json: decisionLogRotateBytes: expected a number of bytes, at least 4096");
    AdminConfig ok = parse_admin_config("/a.json", R"({"decisionLogDirectory": "/srv/log", "decisionLogRotateKeep": 3})");
    EXPECT_EQ(ok.decision_log_directory, "/srv/log");
    EXPECT_EQ(ok.decision_log_rotate_keep, 3);
    EXPECT_TRUE(ok.present());
}

TEST(PolicyCeiling, LooseningAnnotationsAreListedForFeatures) {
    auto names = loosening_annotations();
    EXPECT_NE(std::find(names.begin(), names.end(), "run.tether.network.allowLocalOutboundPorts"), names.end());
    EXPECT_NE(std::find(names.begin(), names.end(), "run.tether.policy"), names.end());
    EXPECT_EQ(std::find(names.begin(), names.end(), "run.tether.network.deniedDomains"), names.end());
}

}  // namespace
}  // namespace tether::spec
