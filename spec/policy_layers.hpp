// The sources of a sandbox policy before their values are parsed: each source
// (the --default-policy file, the run.tether.policy file, the annotations)
// becomes a layer of raw settings keyed like the annotations without their
// prefix ("network.allowDNS"), so that later layers override earlier ones key
// by key and every value goes through the same parser whatever its source.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tether::spec::policy_layers {

struct RawSetting {
    std::string label;  // names the setting in errors: annotation, or "<file>: <key>"
    bool from_annotation = false;
    std::string text;                                // annotation value or JSON scalar
    std::optional<std::vector<std::string>> items;   // JSON array, items as text
    // A JSON value of no usable shape (object, null): reported when the key is
    // used, so that an unknown key is reported as unknown first.
    std::optional<std::string> shape_error;
};

struct Layer {
    std::map<std::string, RawSetting> settings;  // key without "run.tether."
    bool mentions_network = false;  // a network.* key, or a "network" object in a file
    // Set by the workload (annotations, or the policy file they name): held
    // to the administrator's ceiling and key list.
    bool from_workload = false;
};

// The structured policy file: {"network": {...}, "filesystem": {...},
// "sandbox": {...}, "log": "..."}. source names the file in errors
// ("--default-policy", "run.tether.policy /etc/p.json"). Throws ParseError.
Layer layer_from_policy_json(const std::string& source, const std::string& json_text);

}  // namespace tether::spec::policy_layers
