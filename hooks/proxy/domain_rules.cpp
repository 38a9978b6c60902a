#include "hooks/proxy/domain_rules.hpp"

#include <idn2.h>

#include <cstdlib>

namespace tether::hooks {

namespace {

bool is_ascii(std::string_view text) {
    for (unsigned char c : text)
        if (c >= 0x80) return false;
    return true;
}

std::string ascii_lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

}  // namespace

std::optional<std::string> idna_to_ascii(std::string_view name) {
    if (is_ascii(name)) return ascii_lower(name);
    std::string input(name);
    char* output = nullptr;
    int rc = idn2_to_ascii_8z(input.c_str(), &output, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
    if (rc != IDN2_OK) {
        // Some names are valid only under transitional processing (e.g. with ß).
        rc = idn2_to_ascii_8z(input.c_str(), &output, IDN2_TRANSITIONAL | IDN2_NFC_INPUT);
        if (rc != IDN2_OK) return std::nullopt;
    }
    std::string result = ascii_lower(output);
    idn2_free(output);
    return result;
}

std::optional<std::string> normalize_host_name(std::string_view name) {
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    if (name.empty()) return std::nullopt;
    auto ascii = idna_to_ascii(name);
    if (!ascii || ascii->empty()) return std::nullopt;
    // A name with bytes a DNS label cannot hold (spaces, slashes, NUL) is never a
    // destination: refuse it rather than let the resolver interpret it.
    for (char c : *ascii) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == ':';
        if (!ok) return std::nullopt;
    }
    return ascii;
}

std::optional<std::string> normalize_domain_pattern(std::string_view pattern) {
    if (pattern.substr(0, 2) == "*.") {
        auto rest = normalize_host_name(pattern.substr(2));
        if (!rest) return std::nullopt;
        return "*." + *rest;
    }
    return normalize_host_name(pattern);
}

bool domain_pattern_matches(std::string_view pattern, std::string_view name) {
    if (pattern.substr(0, 2) == "*.") {
        std::string_view suffix = pattern.substr(1);  // ".example.com"
        // Subdomains only: "example.com" itself has no label before the suffix.
        return name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
    }
    return pattern == name;
}

DomainVerdict match_domain(std::string_view name, const std::vector<std::string>& allowed,
                           const std::vector<std::string>& denied) {
    for (const auto& pattern : denied)
        if (domain_pattern_matches(pattern, name)) return {false, "deniedDomains:" + pattern};
    for (const auto& pattern : allowed)
        if (domain_pattern_matches(pattern, name)) return {true, "allowedDomains:" + pattern};
    return {false, "not-in-allowedDomains"};
}

}  // namespace tether::hooks
