// The structured policy file (--default-policy FILE, run.tether.policy=FILE),
// flattened into the same keys as the annotations.
#include <nlohmann/json.hpp>

#include "spec/parse_error.hpp"
#include "spec/policy_layers.hpp"

namespace tether::spec::policy_layers {
namespace {

// JSON scalars become the text an annotation would carry, so that `5432`,
// `"5432"` and `true` / `"true"` mean the same in a file and in an annotation.
std::optional<std::string> scalar_text(const nlohmann::json& value) {
    if (value.is_string()) return value.get<std::string>();
    if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
    if (value.is_number_integer() || value.is_number_unsigned()) return value.dump();
    if (value.is_number_float()) return value.dump();
    return std::nullopt;
}

RawSetting setting_from_json(const std::string& label, const nlohmann::json& value) {
    RawSetting setting;
    setting.label = label;
    if (auto text = scalar_text(value)) {
        setting.text = *text;
        return setting;
    }
    if (!value.is_array()) {
        setting.shape_error = label + ": expected a string, number, boolean or array";
        return setting;
    }
    std::vector<std::string> items;
    for (std::size_t i = 0; i < value.size(); ++i) {
        auto text = scalar_text(value[i]);
        if (!text) {
            setting.shape_error =
                label + "[" + std::to_string(i) + "]: expected a string, number or boolean";
            return setting;
        }
        items.push_back(*text);
    }
    setting.items = std::move(items);
    return setting;
}

}  // namespace

Layer layer_from_policy_json(const std::string& source, const std::string& json_text) {
    nlohmann::json document;
    try {
        document = nlohmann::json::parse(json_text);
    } catch (const nlohmann::json::parse_error& e) {
        // The position only: the parser's own message quotes the bytes it
        // read, and a policy file named by a workload may be any host file
        // (run.tether.policy=/etc/shadow must not print a byte of it).
        throw ParseError(source + ": not valid JSON (at byte " + std::to_string(e.byte) + ")");
    } catch (const nlohmann::json::exception&) {
        throw ParseError(source + ": not valid JSON");
    }
    if (!document.is_object()) throw ParseError(source + ": expected a JSON object");

    Layer layer;
    for (const auto& [name, value] : document.items()) {
        const bool section = name == "network" || name == "filesystem" || name == "sandbox";
        if (!section) {
            const std::string label = source + ": " + name;
            layer.settings[name] = setting_from_json(label, value);
            continue;
        }
        if (!value.is_object()) throw ParseError(source + ": " + name + ": expected an object");
        if (name == "network") layer.mentions_network = true;
        for (const auto& [member, member_value] : value.items()) {
            const std::string key = name + "." + member;
            layer.settings[key] = setting_from_json(source + ": " + key, member_value);
        }
    }
    return layer;
}

}  // namespace tether::spec::policy_layers
