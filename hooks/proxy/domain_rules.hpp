// Matching host names against run.tether.network.allowedDomains / deniedDomains.
// Pure functions; the proxy calls them before any resolution happens.
//
// Rules: deny wins over allow; "*.example.com" matches subdomains only (not
// example.com itself); comparison is case-insensitive with a trailing dot
// ignored; internationalised names are compared in their IDNA ASCII form, so
// "bücher.example" and "xn--bcher-kva.example" are one name and a Unicode
// look-alike cannot slip past an ASCII rule.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tether::hooks {

// IDNA 2008 (non-transitional, UTS#46 mapping) via libidn2; ASCII input is
// returned lower-cased. nullopt for names libidn2 rejects.
std::optional<std::string> idna_to_ascii(std::string_view name);

// Lower-case, trailing dot stripped, IDNA ASCII. nullopt for an empty or invalid name.
std::optional<std::string> normalize_host_name(std::string_view name);

// Normalizes an allow/deny pattern ("Example.COM.", "*.bücher.example").
std::optional<std::string> normalize_domain_pattern(std::string_view pattern);

// Whether one normalized pattern matches one normalized name.
bool domain_pattern_matches(std::string_view pattern, std::string_view name);

struct DomainVerdict {
    bool allowed = false;
    // "deniedDomains:*.ads.example", "allowedDomains:example.com" or "not-in-allowedDomains".
    std::string rule;
};

// name and patterns must already be normalized.
DomainVerdict match_domain(std::string_view name, const std::vector<std::string>& allowed,
                           const std::vector<std::string>& denied);

}  // namespace tether::hooks
