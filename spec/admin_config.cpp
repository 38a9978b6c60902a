#include "spec/admin_config.hpp"

#include <nlohmann/json.hpp>

#include "spec/parse_error.hpp"
#include "spec/policy_values.hpp"

namespace tether::spec {
namespace {

using Json = nlohmann::json;

std::vector<std::string> directory_list(const std::string& label, const Json& value) {
    if (!value.is_array()) throw ParseError(label + ": expected an array of absolute directories");
    std::vector<std::string> directories;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const std::string item_label = label + "[" + std::to_string(i) + "]";
        if (!value[i].is_string()) throw ParseError(item_label + ": expected a string");
        directories.push_back(policy_values::parse_absolute_path(item_label, value[i].get<std::string>()));
    }
    return directories;
}

}  // namespace

bool path_within(const std::string& path, const std::vector<std::string>& directories) {
    for (const auto& dir : directories) {
        if (path == dir) return true;
        if (dir == "/" || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/'))
            return true;
    }
    return false;
}

std::string directories_text(const std::vector<std::string>& directories) {
    if (directories.empty()) return "none";
    std::string text;
    for (const auto& dir : directories) text += (text.empty() ? "" : ",") + dir;
    return text;
}

AdminConfig parse_admin_config(const std::string& source, const std::string& json_text) {
    Json document;
    try {
        document = Json::parse(json_text);
    } catch (const Json::exception&) {
        // Never the parser's excerpt: no bytes of a file in a message.
        throw ParseError(source + ": not valid JSON");
    }
    if (!document.is_object()) throw ParseError(source + ": expected a JSON object");
    AdminConfig admin;
    admin.source = source;
    for (const auto& [key, value] : document.items()) {
        const std::string label = source + ": " + key;
        if (key == "ceiling") {
            if (!value.is_object()) throw ParseError(label + ": expected an object (the structured policy form)");
            admin.ceiling_json = value.dump();
        } else if (key == "defaultPolicy") {
            if (!value.is_object()) throw ParseError(label + ": expected an object (the structured policy form)");
            admin.default_policy_json = value.dump();
        } else if (key == "workloadKeys") {
            if (!value.is_array()) throw ParseError(label + ": expected an array of keys");
            std::set<std::string> keys;
            for (std::size_t i = 0; i < value.size(); ++i) {
                if (!value[i].is_string())
                    throw ParseError(label + "[" + std::to_string(i) + "]: expected a string");
                std::string name = value[i].get<std::string>();
                if (name.starts_with("run.tether.")) name = name.substr(11);
                keys.insert(name);
            }
            admin.workload_keys = std::move(keys);
        } else if (key == "policyDirectories") {
            admin.policy_directories = directory_list(label, value);
        } else if (key == "logDirectories") {
            admin.log_directories = directory_list(label, value);
        } else if (key == "decisionLogDirectory") {
            if (!value.is_string()) throw ParseError(label + ": expected an absolute directory");
            admin.decision_log_directory = policy_values::parse_absolute_path(label, value.get<std::string>());
        } else if (key == "decisionLogRotateBytes") {
            if (!value.is_number_unsigned() || value.get<std::uint64_t>() < 4096)
                throw ParseError(label + ": expected a number of bytes, at least 4096");
            admin.decision_log_rotate_bytes = value.get<std::uint64_t>();
        } else if (key == "decisionLogRotateKeep") {
            if (!value.is_number_unsigned() || value.get<std::uint64_t>() < 1 || value.get<std::uint64_t>() > 1000)
                throw ParseError(label + ": expected a count of rotated files, 1-1000");
            admin.decision_log_rotate_keep = static_cast<int>(value.get<std::uint64_t>());
        } else if (key == "transparentEgress") {
            if (!value.is_boolean()) throw ParseError(label + ": expected true or false");
            admin.transparent_egress = value.get<bool>();
        } else {
            throw ParseError(label + ": unknown key");
        }
    }
    return admin;
}

}  // namespace tether::spec
