// The administrator's file (default /etc/tether/admin.json, `tether
// --admin-config FILE` to move it): what the people who run tether allow the
// workloads it confines. Under Kubernetes (pod annotations), CRI-O and CI
// systems the author of the run.tether.* annotations is often the tenant
// whose code the sandbox holds; this file is how an administrator keeps the
// last word. Pure: the caller reads the file. docs/annotations.md,
// "The administrator's file", is the reference.
//
//   {
//     "ceiling": { "network": {...}, "filesystem": {...}, "sandbox": {...} },
//     "workloadKeys": ["network.allowLocalOutboundPorts", "filesystem.allowWrite"],
//     "policyDirectories": ["/etc/tether/policies"],
//     "logDirectories": ["/var/log/tether"],
//     "defaultPolicy": { ...the structured policy form... },
//     "decisionLogDirectory": "/var/log/tether",
//     "decisionLogRotateBytes": 16777216,
//     "decisionLogRotateKeep": 8,
//     "transparentEgress": true
//   }
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tether::spec {

inline constexpr const char* kDefaultAdminConfigPath = "/etc/tether/admin.json";
inline constexpr const char* kDefaultDecisionLogDirectory = "/var/log/tether";

struct AdminConfig {
    std::string source;  // the file, for messages ("" without one)
    // The most a workload may get, in the structured policy form (JSON text).
    // Set: annotations and their policy file may only narrow.
    std::optional<std::string> ceiling_json;
    // Keys (without "run.tether.") a workload may set by annotation; unset:
    // every known key.
    std::optional<std::set<std::string>> workload_keys;
    // Where run.tether.policy files may be. Empty: anywhere (no
    // administrator's file: the caller is trusted, as before).
    std::vector<std::string> policy_directories;
    // Where run.tether.log may point.
    std::vector<std::string> log_directories = {kDefaultDecisionLogDirectory};
    // The policy every container gets first (--default-policy replaces it).
    std::optional<std::string> default_policy_json;
    // Every sandbox's decisions are appended to <dir>/<container id>.jsonl,
    // kept after delete, rotated at this size (<id>.jsonl.1 ... .N).
    std::string decision_log_directory = kDefaultDecisionLogDirectory;
    std::uint64_t decision_log_rotate_bytes = 16 * 1024 * 1024;
    int decision_log_rotate_keep = 8;
    // "transparentEgress": false turns transparent egress (issue 21) off for
    // every container: direct connects are then refused, as without it, and
    // only the proxy variables lead out.
    bool transparent_egress = true;

    bool present() const { return !source.empty(); }
};

// Throws ParseError naming the file and the key.
AdminConfig parse_admin_config(const std::string& source, const std::string& json_text);

// True when `path` (absolute, normalised) is one of `directories` or below one.
bool path_within(const std::string& path, const std::vector<std::string>& directories);

// "a,b" for messages; "none" for an empty list.
std::string directories_text(const std::vector<std::string>& directories);

}  // namespace tether::spec
