// The value formats of the sandbox policy, one parser per format. Each takes
// the label of the setting (the annotation name, or "<policy file>: <key>") and
// throws ParseError("<label>: <what is wrong with which item>").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "spec/policy.hpp"

namespace tether::spec::policy_values {

// "a, b ,c" -> {"a","b","c"}; blanks around items trimmed; a blank value is an
// empty list; an empty item ("a,,b", "a,") is an error.
std::vector<std::string> split_list(const std::string& label, std::string_view value);

// Trims spaces and tabs at both ends.
std::string_view trim(std::string_view text);

// "5432" or "8000-8010"; ports are 1-65535 and a range needs first <= last.
PortRange parse_port_range(const std::string& label, const std::string& item);

// Exactly "true" or "false".
bool parse_bool(const std::string& label, const std::string& value);

// An absolute path, normalized: "//" and "/./" collapsed, trailing "/"
// dropped; ".." is refused because the path must name the same place inside
// and outside of any symlink resolution we do later.
std::string parse_absolute_path(const std::string& label, const std::string& item);

// "example.com" or "*.example.com": lower-cased, one trailing dot dropped,
// labels of [a-z0-9-] (1-63 chars, no leading/trailing "-"), "*" only as the
// whole first label.
std::string parse_domain_pattern(const std::string& label, const std::string& item);

// "git.example.com:22", "192.0.2.1:5432", "[2001:db8::1]:5432": a domain
// name (no wildcard) or an IP literal, and a port (1-65535), required.
HostPort parse_host_port(const std::string& label, const std::string& item);

// "10.0.0.0/8", "fd00::/8", or a bare address (a /32 or /128); host bits must be zero.
Cidr parse_cidr(const std::string& label, const std::string& item);

}  // namespace tether::spec::policy_values
