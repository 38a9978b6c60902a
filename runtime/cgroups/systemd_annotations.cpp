// org.systemd.property.* annotations -> unit properties, runc's convention
// (libcontainer/specconv: initSystemdProps, godbus's ParseVariant). The value
// grammar is the part of GVariant text systemd properties need.
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "runtime/cgroups/systemd_properties.hpp"
#include "runtime/core/error.hpp"

namespace tether::cgroups {
namespace {

constexpr std::string_view annotation_prefix = "org.systemd.property.";

std::string trim_spaces(const std::string& text) {
    const size_t first = text.find_first_not_of(" \t");
    if (first == std::string::npos) return "";
    return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

class ValueParser {
public:
    ValueParser(std::string key, std::string text) : key_(std::move(key)), text_(std::move(text)) {}

    PropertyValue parse() {
        const std::string value = trim_spaces(text_);
        if (value.empty()) fail("empty value");
        // "uint64 5000000": a type keyword, then the literal.
        const size_t space = value.find_first_of(" \t");
        if (space != std::string::npos && std::isalpha(static_cast<unsigned char>(value[0]))) {
            const std::string type = value.substr(0, space);
            const std::string literal = trim_spaces(value.substr(space));
            if (type == "uint64") return unsigned_number(literal, std::numeric_limits<uint64_t>::max());
            if (type == "uint32") return static_cast<uint32_t>(unsigned_number(literal, UINT32_MAX));
            if (type == "int64") return signed_number(literal, INT64_MIN, INT64_MAX);
            if (type == "int32") return static_cast<int32_t>(signed_number(literal, INT32_MIN, INT32_MAX));
            if (type == "double") return floating(literal);
            if (type == "boolean") return boolean(literal);
            if (type == "string") return quoted(literal);
            fail("unknown type \"" + type + "\" (uint64, int64, uint32, int32, double, boolean or string)");
        }
        if (value == "true" || value == "false") return boolean(value);
        if (value[0] == '\'' || value[0] == '"') return quoted(value);
        if (value[0] == '[') return string_array(value);
        // An untyped number is an int32 in GVariant text, a double if it has a point.
        if (value.find_first_of(".eE") != std::string::npos) return floating(value);
        if (std::isdigit(static_cast<unsigned char>(value[0])) || value[0] == '-')
            return static_cast<int32_t>(signed_number(value, INT32_MIN, INT32_MAX));
        fail("cannot parse \"" + value + "\"");
    }

private:
    [[noreturn]] void fail(const std::string& why) const {
        throw Error("annotation " + key_ + "=\"" + text_ + "\": " + why);
    }

    uint64_t unsigned_number(const std::string& literal, uint64_t max) const {
        if (literal.empty() || !std::isdigit(static_cast<unsigned char>(literal[0]))) fail("not a number");
        errno = 0;
        char* end = nullptr;
        const unsigned long long n = std::strtoull(literal.c_str(), &end, 10);
        if (*end != '\0' || errno == ERANGE || n > max) fail("\"" + literal + "\" is not an unsigned number in range");
        return n;
    }

    int64_t signed_number(const std::string& literal, int64_t min, int64_t max) const {
        errno = 0;
        char* end = nullptr;
        const long long n = std::strtoll(literal.c_str(), &end, 10);
        if (literal.empty() || *end != '\0' || errno == ERANGE || n < min || n > max)
            fail("\"" + literal + "\" is not a number in range");
        return n;
    }

    double floating(const std::string& literal) const {
        char* end = nullptr;
        const double d = std::strtod(literal.c_str(), &end);
        if (literal.empty() || *end != '\0' || !std::isfinite(d)) fail("\"" + literal + "\" is not a number");
        return d;
    }

    bool boolean(const std::string& literal) const {
        if (literal == "true") return true;
        if (literal == "false") return false;
        fail("\"" + literal + "\" is not true or false");
    }

    // 'text' or "text", with backslash escapes of the quote and backslash.
    std::string quoted(const std::string& literal, size_t* consumed = nullptr) const {
        if (literal.empty() || (literal[0] != '\'' && literal[0] != '"')) fail("a string must be quoted");
        const char quote = literal[0];
        std::string out;
        for (size_t i = 1; i < literal.size(); ++i) {
            char c = literal[i];
            if (c == '\\' && i + 1 < literal.size()) {
                out += literal[++i];
                continue;
            }
            if (c == quote) {
                if (consumed) *consumed = i + 1;
                else if (i + 1 != literal.size()) fail("text after the closing quote");
                return out;
            }
            out += c;
        }
        fail("unterminated string");
    }

    std::vector<std::string> string_array(const std::string& literal) const {
        std::vector<std::string> items;
        std::string rest = trim_spaces(literal.substr(1));
        if (!rest.empty() && rest[0] == ']') {
            if (trim_spaces(rest.substr(1)).empty()) return items;
        }
        for (;;) {
            size_t used = 0;
            items.push_back(quoted(rest, &used));
            rest = trim_spaces(rest.substr(used));
            if (rest.empty()) fail("unterminated array");
            if (rest[0] == ']') {
                if (!trim_spaces(rest.substr(1)).empty()) fail("text after the array");
                return items;
            }
            if (rest[0] != ',') fail("arrays hold quoted strings separated by commas");
            rest = trim_spaces(rest.substr(1));
        }
    }

    std::string key_;
    std::string text_;
};

// runc: latin letters only, at least three.
bool valid_property_name(const std::string& name) {
    if (name.size() < 3) return false;
    for (char c : name)
        if (!std::isalpha(static_cast<unsigned char>(c))) return false;
    return true;
}

// runc's convertSecToUSec: "TimeoutStopSec=5" means seconds; systemd's bus
// property is TimeoutStopUSec in microseconds.
PropertyValue seconds_to_microseconds(const std::string& key, const PropertyValue& value) {
    constexpr uint64_t factor = 1000000;
    auto refuse = [&] { throw Error("annotation " + key + ": a ...Sec value must be a non-negative number"); };
    if (auto* v = std::get_if<uint64_t>(&value)) {
        if (*v > UINT64_MAX / factor) refuse();
        return *v * factor;
    }
    if (auto* v = std::get_if<uint32_t>(&value)) return static_cast<uint64_t>(*v) * factor;
    if (auto* v = std::get_if<int64_t>(&value)) {
        if (*v < 0 || static_cast<uint64_t>(*v) > UINT64_MAX / factor) refuse();
        return static_cast<uint64_t>(*v) * factor;
    }
    if (auto* v = std::get_if<int32_t>(&value)) {
        if (*v < 0) refuse();
        return static_cast<uint64_t>(*v) * factor;
    }
    if (auto* v = std::get_if<double>(&value)) {
        if (*v < 0 || *v * factor >= 1.8e19) refuse();
        return static_cast<uint64_t>(*v * factor);
    }
    refuse();
    return value;
}

}  // namespace

std::vector<UnitProperty> parse_property_annotations(const std::map<std::string, std::string>& annotations) {
    std::vector<UnitProperty> out;
    for (const auto& [key, text] : annotations) {
        if (!key.starts_with(annotation_prefix)) continue;
        std::string name = key.substr(annotation_prefix.size());
        if (!valid_property_name(name))
            throw Error("annotation " + key + ": \"" + name + "\" is not a systemd property name (letters only)");
        PropertyValue value = ValueParser(key, text).parse();
        if (name.size() > 4 && name.ends_with("Sec") && std::islower(static_cast<unsigned char>(name[name.size() - 4]))) {
            value = seconds_to_microseconds(key, value);
            name = name.substr(0, name.size() - 3) + "USec";
        }
        out.push_back({name, value});
    }
    return out;
}

}  // namespace tether::cgroups
