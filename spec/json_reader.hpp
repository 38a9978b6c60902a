// A typed, path-tracking reader over nlohmann::json: the only way spec/ reads
// documents. Every accessor either returns a C++ value or throws ParseError
// whose message starts with the JSON path of the offending value
// ("linux.namespaces[2].type: expected a string"), so a malformed document
// yields one precise error and nlohmann's own exceptions never escape.
//
// Conventions (the runtime-spec's, and Go's encoding/json that runc uses):
// unknown properties are ignored; an explicit null counts as absent.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "spec/parse_error.hpp"

namespace tether::spec {

// Parses text as JSON. On a syntax error throws
// "<document_name>: invalid JSON at byte N: <reason>".
nlohmann::json parse_json_document(std::string_view text, std::string_view document_name);

// Quotes a value for an error message: JSON-style escapes, and long values
// cut short so that a hostile document cannot flood the log.
std::string quote_for_message(std::string_view value);

class JsonNode {
public:
    // `label` names the whole document in errors about the root itself; it is
    // kept as a view, so pass a string literal. `value` must outlive the node.
    JsonNode(const nlohmann::json& value, std::string path, std::string_view label = "config.json")
        : value_(&value), path_(std::move(path)), label_(label) {}

    const std::string& path() const { return path_; }
    // The path, or the document label for the root: what errors start with.
    std::string where() const { return path_.empty() ? std::string(label_) : path_; }
    const nlohmann::json& raw() const { return *value_; }

    [[noreturn]] void fail(const std::string& message) const;
    [[noreturn]] void fail_expected(const std::string& what) const { fail("expected " + what); }

    bool is_null() const { return value_->is_null(); }
    bool is_object() const { return value_->is_object(); }
    bool is_array() const { return value_->is_array(); }

    // Children. has() is false for missing and null members.
    bool has(std::string_view key) const;
    JsonNode member(std::string_view key) const;          // must exist (else "<path>.<key>: missing ...")
    std::optional<JsonNode> optional_member(std::string_view key) const;
    std::string child_path(std::string_view key) const;

    // Requires this node to be an object / array (else "<path>: expected an object").
    void require_object() const;
    void require_array(const char* what = "an array") const;
    size_t array_size() const { return value_->size(); }
    JsonNode item(size_t index) const;
    std::vector<std::string> object_keys() const;

    // Scalars at this node.
    std::string as_string() const;
    std::string as_nonempty_string() const;
    std::string as_absolute_path() const;
    bool as_bool() const;
    template <typename Int>
    Int as_integer(Int min = std::numeric_limits<Int>::min(), Int max = std::numeric_limits<Int>::max()) const;

    // Containers at this node.
    std::vector<std::string> as_string_array() const;
    std::map<std::string, std::string> as_string_map() const;

    // Shorthands for members: required_* fail when the member is missing or null,
    // optional_* return the default / nullopt.
    std::string required_string(std::string_view key) const { return member(key).as_string(); }
    std::string optional_string(std::string_view key, std::string fallback = "") const;
    bool optional_bool(std::string_view key, bool fallback) const;
    std::optional<bool> maybe_bool(std::string_view key) const;
    template <typename Int>
    Int required_integer(std::string_view key, Int min = std::numeric_limits<Int>::min(),
                         Int max = std::numeric_limits<Int>::max()) const {
        return member(key).as_integer<Int>(min, max);
    }
    template <typename Int>
    std::optional<Int> maybe_integer(std::string_view key, Int min = std::numeric_limits<Int>::min(),
                                     Int max = std::numeric_limits<Int>::max()) const {
        if (!has(key)) return std::nullopt;
        return member(key).as_integer<Int>(min, max);
    }
    std::vector<std::string> optional_string_array(std::string_view key) const;
    std::map<std::string, std::string> optional_string_map(std::string_view key) const;

    // Calls fn(JsonNode item, size_t index) for each item of the array member
    // `key`, if present.
    template <typename Fn>
    void for_each_item(std::string_view key, Fn fn) const {
        auto array = optional_member(key);
        if (!array) return;
        array->require_array();
        for (size_t i = 0; i < array->array_size(); ++i) fn(array->item(i), i);
    }

private:
    // Reads an integer as [lowest, highest] of 64-bit range; narrowing is checked by the caller.
    bool read_signed(int64_t& out) const;
    bool read_unsigned(uint64_t& out) const;
    [[noreturn]] void fail_range(const std::string& min, const std::string& max) const;

    const nlohmann::json* value_;
    std::string path_;
    std::string_view label_;
};

template <typename Int>
Int JsonNode::as_integer(Int min, Int max) const {
    static_assert(std::is_integral_v<Int> && !std::is_same_v<Int, bool>);
    auto range_error = [&]() { fail_range(std::to_string(min), std::to_string(max)); };
    if constexpr (std::is_signed_v<Int>) {
        int64_t v = 0;
        if (!read_signed(v) || v < static_cast<int64_t>(min) || v > static_cast<int64_t>(max)) range_error();
        return static_cast<Int>(v);
    } else {
        uint64_t v = 0;
        if (!read_unsigned(v) || v < static_cast<uint64_t>(min) || v > static_cast<uint64_t>(max)) range_error();
        return static_cast<Int>(v);
    }
}

// Parses text as the document `label` (a string literal, "process.json") and
// reads it with `read(const JsonNode&)`; every error names the document
// first, once ("process.json: args: expected ..."): for the documents a verb
// reads from a file the user names, where a path alone would not say which.
template <typename Read>
auto read_labelled_document(std::string_view text, std::string_view label, Read read) {
    const nlohmann::json document = parse_json_document(text, label);
    try {
        return read(JsonNode(document, "", label));
    } catch (const ParseError& e) {
        const std::string message = e.what();
        if (message.rfind(label, 0) == 0) throw;
        throw ParseError(std::string(label) + ": " + message);
    }
}

}  // namespace tether::spec
