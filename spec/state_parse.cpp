#include "spec/state_parse.hpp"

#include <limits>

#include <nlohmann/json.hpp>

namespace tether::spec {
namespace {

using nlohmann::json;

std::string required_string(const json& doc, const char* key) {
    auto it = doc.find(key);
    if (it == doc.end()) throw ParseError(std::string(key) + ": required field is missing");
    if (!it->is_string()) throw ParseError(std::string(key) + ": expected a string");
    return it->get<std::string>();
}

std::string optional_string(const json& doc, const char* key) {
    auto it = doc.find(key);
    if (it == doc.end() || it->is_null()) return {};
    if (!it->is_string()) throw ParseError(std::string(key) + ": expected a string");
    return it->get<std::string>();
}

}  // namespace

State parse_state(std::string_view json_text) {
    json doc;
    try {
        doc = json::parse(json_text);
    } catch (const json::exception& e) {
        // parse_error, and out_of_range for numbers like 1e400 (found by fuzz_state).
        throw ParseError(std::string("state: invalid JSON: ") + e.what());
    }
    if (!doc.is_object()) throw ParseError("state: expected a JSON object");

    State state;
    state.oci_version = required_string(doc, "ociVersion");
    state.id = required_string(doc, "id");
    if (state.id.empty()) throw ParseError("id: must not be empty");
    state.status = required_string(doc, "status");
    state.bundle = optional_string(doc, "bundle");
    state.rootfs = optional_string(doc, "rootfs");
    state.created = optional_string(doc, "created");
    state.owner = optional_string(doc, "owner");

    if (auto it = doc.find("pid"); it != doc.end() && !it->is_null()) {
        if (!it->is_number_integer()) throw ParseError("pid: expected an integer");
        auto pid = it->get<int64_t>();
        if (pid < 0 || pid > std::numeric_limits<int>::max())
            throw ParseError("pid: out of range");
        state.pid = static_cast<int>(pid);
    }

    if (auto it = doc.find("annotations"); it != doc.end() && !it->is_null()) {
        if (!it->is_object()) throw ParseError("annotations: expected an object of strings");
        for (const auto& [key, value] : it->items()) {
            if (!value.is_string())
                throw ParseError("annotations." + key + ": expected a string");
            state.annotations[key] = value.get<std::string>();
        }
    }
    return state;
}

}  // namespace tether::spec
