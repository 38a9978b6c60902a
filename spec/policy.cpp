// parse_policy: layers (default policy, policy file, annotations) merged key
// by key, then every value parsed by the format its key has.
#include "spec/policy.hpp"

#include <algorithm>

#include "spec/admin_config.hpp"
#include "spec/parse_error.hpp"
#include "spec/policy_ceiling.hpp"
#include "spec/policy_layers.hpp"
#include "spec/policy_values.hpp"

namespace tether::spec {
namespace {

using policy_layers::Layer;
using policy_layers::RawSetting;
namespace values = policy_values;

constexpr std::string_view kPrefix = "run.tether.";
constexpr std::string_view kPolicyFileKey = "policy";

// The items of a list setting: a JSON array as is, a string split on commas.
void check_shape(const RawSetting& setting) {
    if (setting.shape_error) throw ParseError(*setting.shape_error);
}

std::vector<std::string> list_items(const RawSetting& setting) {
    check_shape(setting);
    if (setting.items) {
        std::vector<std::string> items;
        for (const auto& item : *setting.items) {
            const std::string_view trimmed = values::trim(item);
            if (trimmed.empty()) throw ParseError(setting.label + ": empty item in list");
            items.emplace_back(trimmed);
        }
        return items;
    }
    return values::split_list(setting.label, setting.text);
}

const std::string& scalar(const RawSetting& setting) {
    check_shape(setting);
    if (setting.items) throw ParseError(setting.label + ": expected a single value, got a list");
    return setting.text;
}

template <typename T, typename Parse>
std::vector<T> parse_list(const RawSetting& setting, Parse parse) {
    std::vector<T> parsed;
    for (const auto& item : list_items(setting)) {
        T value = parse(setting.label, item);
        // Duplicates are harmless; dropping them keeps rule lists short.
        if (std::find(parsed.begin(), parsed.end(), value) == parsed.end())
            parsed.push_back(std::move(value));
    }
    return parsed;
}

std::vector<Cidr> parse_cidrs(const RawSetting& setting) {
    std::vector<Cidr> parsed;
    for (const auto& item : list_items(setting))
        parsed.push_back(values::parse_cidr(setting.label, item));
    return parsed;
}

using Apply = void (*)(SandboxPolicy&, const RawSetting&);

// Every key a policy may carry; anything else under run.tether. is an error,
// so that a typo never silently weakens a sandbox.
const std::map<std::string, Apply, std::less<>>& known_keys() {
    static const std::map<std::string, Apply, std::less<>> keys = {
        {"network.allowLocalOutboundPorts",
         [](SandboxPolicy& p, const RawSetting& s) {
             p.network.allow_local_outbound_ports =
                 parse_list<PortRange>(s, values::parse_port_range);
         }},
        {"network.allowedDomains",
         [](SandboxPolicy& p, const RawSetting& s) {
             p.network.allowed_domains = parse_list<std::string>(s, values::parse_domain_pattern);
         }},
        {"network.deniedDomains",
         [](SandboxPolicy& p, const RawSetting& s) {
             p.network.denied_domains = parse_list<std::string>(s, values::parse_domain_pattern);
         }},
        {"network.allowBindPorts",
         [](SandboxPolicy& p, const RawSetting& s) {
             p.network.allow_bind_ports = parse_list<PortRange>(s, values::parse_port_range);
         }},
        {"network.allowDNS",
         [](SandboxPolicy& p, const RawSetting& s) {
             p.network.allow_dns = values::parse_bool(s.label, scalar(s));
         }},
        {"network.allowPrivateUpstreams",
         [](SandboxPolicy& p, const RawSetting& s) {
             p.network.allow_private_upstreams = parse_cidrs(s);
         }},
        {"network.allowedHosts",
         [](SandboxPolicy& p, const RawSetting& s) {
             p.network.allowed_hosts = parse_list<HostPort>(s, values::parse_host_port);
         }},
        {"network.transparent",
         [](SandboxPolicy& p, const RawSetting& s) {
             p.network.transparent = values::parse_bool(s.label, scalar(s));
         }},
        {"filesystem.allowWrite",
         [](SandboxPolicy& p, const RawSetting& s) {
             p.filesystem.allow_write = parse_list<std::string>(s, values::parse_absolute_path);
         }},
        {"filesystem.denyWrite",
         [](SandboxPolicy& p, const RawSetting& s) {
             p.filesystem.deny_write = parse_list<std::string>(s, values::parse_absolute_path);
         }},
        {"filesystem.denyRead",
         [](SandboxPolicy& p, const RawSetting& s) {
             p.filesystem.deny_read = parse_list<std::string>(s, values::parse_absolute_path);
         }},
        {"filesystem.allowExecute",
         [](SandboxPolicy& p, const RawSetting& s) {
             p.filesystem.allow_execute =
                 parse_list<std::string>(s, values::parse_absolute_path);
         }},
        {"sandbox.mode",
         [](SandboxPolicy& p, const RawSetting& s) {
             const std::string& mode = scalar(s);
             if (mode == "enforce")
                 p.sandbox.mode = SandboxMode::enforce;
             else if (mode == "audit")
                 p.sandbox.mode = SandboxMode::audit;
             else
                 throw ParseError(s.label + ": expected \"enforce\" or \"audit\", got \"" + mode +
                                  "\"");
         }},
        {"sandbox.bestEffort",
         [](SandboxPolicy& p, const RawSetting& s) {
             p.sandbox.best_effort = values::parse_bool(s.label, scalar(s));
         }},
        {"sandbox.scopeSignals",
         [](SandboxPolicy& p, const RawSetting& s) {
             p.sandbox.scope_signals = values::parse_bool(s.label, scalar(s));
         }},
        {"log",
         [](SandboxPolicy& p, const RawSetting& s) {
             p.sandbox.log_path = values::parse_absolute_path(s.label, scalar(s));
         }},
    };
    return keys;
}

Layer layer_from_annotations(const std::map<std::string, std::string>& annotations) {
    Layer layer;
    for (const auto& [name, value] : annotations) {
        if (!name.starts_with(kPrefix)) continue;
        const std::string key = name.substr(kPrefix.size());
        if (key == kPolicyFileKey) continue;  // a source, not a setting
        if (key.starts_with("network.")) layer.mentions_network = true;
        layer.settings[key] = RawSetting{name, true, value, std::nullopt, std::nullopt};
    }
    return layer;
}

std::optional<Layer> layer_from_policy_file(const std::map<std::string, std::string>& annotations,
                                            const PolicyFileReader& read_file, const AdminConfig& admin) {
    const auto found = annotations.find(std::string(kPrefix) + std::string(kPolicyFileKey));
    if (found == annotations.end()) return std::nullopt;
    const std::string label = found->first;
    const std::string path = values::parse_absolute_path(label, found->second);
    // A workload names this file and root reads it: only where the
    // administrator keeps policies (with no administrator's file the caller
    // is trusted, as before).
    if (admin.present() && !path_within(path, admin.policy_directories))
        throw ParseError(label + ": " + path + " is outside the policy directories of " + admin.source + " (" +
                         directories_text(admin.policy_directories) + ")");
    std::string contents;
    try {
        contents = read_file(path);
    } catch (const std::exception& e) {
        throw ParseError(label + ": cannot read " + path + ": " + e.what());
    }
    Layer layer = policy_layers::layer_from_policy_json(label + " " + path, contents);
    layer.from_workload = true;
    return layer;
}

// Annotation keys a workload may set at all, under an administrator's list.
void check_workload_keys(const std::map<std::string, std::string>& annotations, const AdminConfig& admin) {
    if (!admin.workload_keys) return;
    for (const auto& [name, value] : annotations) {
        if (!name.starts_with(kPrefix)) continue;
        const std::string key = name.substr(kPrefix.size());
        if (!admin.workload_keys->count(key))
            throw ParseError(name + ": not allowed for workloads by " + admin.source + " (workloadKeys)");
    }
}

}  // namespace

std::vector<PortRange> SandboxPolicy::effective_bind_ports(bool own_network_namespace) const {
    if (network.allow_bind_ports) return *network.allow_bind_ports;
    if (own_network_namespace) return {PortRange{1, 65535}};
    return {};
}

bool SandboxPolicy::effective_scope_signals(bool shares_host_pid_namespace) const {
    return sandbox.scope_signals.value_or(shares_host_pid_namespace);
}

SandboxPolicy parse_policy(const std::map<std::string, std::string>& annotations,
                           const std::optional<std::string>& default_policy_json,
                           const PolicyFileReader& read_file) {
    return parse_policy(annotations, default_policy_json, read_file, AdminConfig{});
}

std::vector<std::string> loosening_annotations() {
    std::vector<std::string> names;
    for (const char* key : {"network.allowLocalOutboundPorts", "network.allowedDomains", "network.allowBindPorts",
                            "network.allowDNS", "network.allowPrivateUpstreams", "network.allowedHosts",
                            "network.transparent", "filesystem.allowWrite",
                            "filesystem.allowExecute", "sandbox.mode", "sandbox.bestEffort", "sandbox.scopeSignals",
                            "log", "policy"})
        names.push_back(std::string(kPrefix) + key);
    return names;
}

SandboxPolicy parse_policy(const std::map<std::string, std::string>& annotations,
                           const std::optional<std::string>& default_policy_json,
                           const PolicyFileReader& read_file, const AdminConfig& admin) {
    check_workload_keys(annotations, admin);
    std::vector<Layer> layers;
    const std::optional<std::string>& defaults =
        default_policy_json ? default_policy_json : admin.default_policy_json;
    if (defaults)
        layers.push_back(policy_layers::layer_from_policy_json(
            default_policy_json ? "--default-policy" : admin.source + ": defaultPolicy", *defaults));
    if (auto file_layer = layer_from_policy_file(annotations, read_file, admin))
        layers.push_back(std::move(*file_layer));
    Layer annotation_layer = layer_from_annotations(annotations);
    annotation_layer.from_workload = true;
    layers.push_back(std::move(annotation_layer));

    SandboxPolicy policy;
    policy.present = defaults.has_value() ||
                     std::any_of(annotations.begin(), annotations.end(),
                                 [](const auto& entry) { return entry.first.starts_with(kPrefix); });

    // Key by key: a later layer replaces a key's whole value, never merges lists.
    std::map<std::string, std::pair<const RawSetting*, bool>> merged;  // setting, from the workload
    for (const auto& layer : layers) {
        policy.network.enabled = policy.network.enabled || layer.mentions_network;
        for (const auto& [key, setting] : layer.settings) merged[key] = {&setting, layer.from_workload};
    }
    std::optional<SandboxPolicy> ceiling;
    if (admin.ceiling_json) {
        ceiling.emplace();
        const Layer top = policy_layers::layer_from_policy_json(admin.source + ": ceiling", *admin.ceiling_json);
        for (const auto& [key, setting] : top.settings) {
            const auto known = known_keys().find(key);
            if (known == known_keys().end()) throw ParseError(setting.label + ": unknown key");
            known->second(*ceiling, setting);
        }
    }
    for (const auto& [key, entry] : merged) {
        const auto& [setting, from_workload] = entry;
        const auto known = known_keys().find(key);
        if (known == known_keys().end())
            throw ParseError(setting->label +
                             (setting->from_annotation ? ": unknown annotation" : ": unknown key"));
        known->second(policy, *setting);
        if (!from_workload) continue;
        if (ceiling) {
            SandboxPolicy alone;
            known->second(alone, *setting);
            check_within_ceiling(key, setting->label, alone, *ceiling, admin.source);
        }
    }
    // root appends decisions to this file: only where the administrator
    // keeps logs (/var/log/tether without an administrator's file).
    if (policy.sandbox.log_path && !path_within(*policy.sandbox.log_path, admin.log_directories)) {
        const auto& setting = *merged.at("log").first;
        throw ParseError(setting.label + ": " + *policy.sandbox.log_path + " is outside the log directories (" +
                         directories_text(admin.log_directories) + ")" +
                         (admin.present() ? " of " + admin.source : ""));
    }
    return policy;
}

}  // namespace tether::spec
