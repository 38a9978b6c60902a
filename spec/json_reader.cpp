#include "spec/json_reader.hpp"

#include <cstdio>

namespace tether::spec {

nlohmann::json parse_json_document(std::string_view text, std::string_view document_name) {
    try {
        return nlohmann::json::parse(text.begin(), text.end());
    } catch (const nlohmann::json::parse_error& e) {
        // nlohmann says "[json.exception.parse_error.101] parse error at line 1,
        // column 5: <reason>"; keep only the reason, we give the byte offset.
        std::string what = e.what();
        std::string reason = what;
        auto column = what.find(", column ");
        if (column != std::string::npos) {
            auto colon = what.find(": ", column);
            if (colon != std::string::npos) reason = what.substr(colon + 2);
        }
        throw ParseError(std::string(document_name) + ": invalid JSON at byte " + std::to_string(e.byte) + ": " +
                         reason);
    } catch (const nlohmann::json::exception& e) {
        throw ParseError(std::string(document_name) + ": invalid JSON: " + e.what());
    }
}

std::string quote_for_message(std::string_view value) {
    constexpr size_t max_shown = 80;
    std::string out = "\"";
    size_t shown = 0;
    for (char c : value) {
        if (shown++ == max_shown) {
            out += "...";
            break;
        }
        auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (byte < 0x20 || byte == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", byte);
            out += buf;
        } else {
            out += c;
        }
    }
    out += '"';
    return out;
}

void JsonNode::fail(const std::string& message) const { throw ParseError(where() + ": " + message); }

std::string JsonNode::child_path(std::string_view key) const {
    if (path_.empty()) return std::string(key);
    std::string p = path_;
    p += '.';
    p += key;
    return p;
}

bool JsonNode::has(std::string_view key) const {
    if (!value_->is_object()) return false;
    auto it = value_->find(key);
    return it != value_->end() && !it->is_null();
}

JsonNode JsonNode::member(std::string_view key) const {
    require_object();
    auto it = value_->find(key);
    if (it == value_->end() || it->is_null()) throw ParseError(child_path(key) + ": missing (required)");
    return JsonNode(*it, child_path(key), label_);
}

std::optional<JsonNode> JsonNode::optional_member(std::string_view key) const {
    require_object();
    auto it = value_->find(key);
    if (it == value_->end() || it->is_null()) return std::nullopt;
    return JsonNode(*it, child_path(key), label_);
}

void JsonNode::require_object() const {
    if (!value_->is_object()) fail_expected("an object");
}

void JsonNode::require_array(const char* what) const {
    if (!value_->is_array()) fail_expected(what);
}

JsonNode JsonNode::item(size_t index) const {
    return JsonNode((*value_)[index], path_ + "[" + std::to_string(index) + "]", label_);
}

std::vector<std::string> JsonNode::object_keys() const {
    require_object();
    std::vector<std::string> keys;
    for (auto it = value_->begin(); it != value_->end(); ++it) keys.push_back(it.key());
    return keys;
}

std::string JsonNode::as_string() const {
    if (!value_->is_string()) fail_expected("a string");
    return value_->get<std::string>();
}

std::string JsonNode::as_nonempty_string() const {
    if (!value_->is_string() || value_->get_ref<const std::string&>().empty()) fail_expected("a non-empty string");
    return value_->get<std::string>();
}

std::string JsonNode::as_absolute_path() const {
    if (!value_->is_string() || value_->get_ref<const std::string&>().empty() ||
        value_->get_ref<const std::string&>()[0] != '/')
        fail_expected("an absolute path");
    return value_->get<std::string>();
}

bool JsonNode::as_bool() const {
    if (!value_->is_boolean()) fail_expected("true or false");
    return value_->get<bool>();
}

bool JsonNode::read_signed(int64_t& out) const {
    if (value_->is_number_unsigned()) {
        auto v = value_->get<uint64_t>();
        if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
        out = static_cast<int64_t>(v);
        return true;
    }
    if (value_->is_number_integer()) {
        out = value_->get<int64_t>();
        return true;
    }
    return false;  // floats (even 1.0), strings, ...: Go's encoding/json rejects them too
}

bool JsonNode::read_unsigned(uint64_t& out) const {
    if (value_->is_number_unsigned()) {
        out = value_->get<uint64_t>();
        return true;
    }
    if (value_->is_number_integer()) {
        auto v = value_->get<int64_t>();
        if (v < 0) return false;
        out = static_cast<uint64_t>(v);
        return true;
    }
    return false;
}

void JsonNode::fail_range(const std::string& min, const std::string& max) const {
    fail_expected("an integer between " + min + " and " + max);
}

std::vector<std::string> JsonNode::as_string_array() const {
    require_array("an array of strings");
    std::vector<std::string> out;
    out.reserve(value_->size());
    for (size_t i = 0; i < value_->size(); ++i) out.push_back(item(i).as_string());
    return out;
}

std::map<std::string, std::string> JsonNode::as_string_map() const {
    if (!value_->is_object()) fail_expected("an object mapping strings to strings");
    std::map<std::string, std::string> out;
    for (auto it = value_->begin(); it != value_->end(); ++it)
        out[it.key()] = JsonNode(it.value(), child_path(it.key()), label_).as_string();
    return out;
}

std::string JsonNode::optional_string(std::string_view key, std::string fallback) const {
    auto m = optional_member(key);
    return m ? m->as_string() : fallback;
}

bool JsonNode::optional_bool(std::string_view key, bool fallback) const {
    auto m = optional_member(key);
    return m ? m->as_bool() : fallback;
}

std::optional<bool> JsonNode::maybe_bool(std::string_view key) const {
    auto m = optional_member(key);
    if (!m) return std::nullopt;
    return m->as_bool();
}

std::vector<std::string> JsonNode::optional_string_array(std::string_view key) const {
    auto m = optional_member(key);
    return m ? m->as_string_array() : std::vector<std::string>{};
}

std::map<std::string, std::string> JsonNode::optional_string_map(std::string_view key) const {
    auto m = optional_member(key);
    return m ? m->as_string_map() : std::map<std::string, std::string>{};
}

}  // namespace tether::spec
