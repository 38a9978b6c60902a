#include "spec/policy_values.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>

#include "spec/parse_error.hpp"

namespace tether::spec::policy_values {
namespace {

[[noreturn]] void fail(const std::string& label, const std::string& what) {
    throw ParseError(label + ": " + what);
}

std::string quote_text(std::string_view text) { return "\"" + std::string(text) + "\""; }

bool all_digits(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(),
                                        [](unsigned char c) { return std::isdigit(c) != 0; });
}

// Returns 0 when the text is not a port, so that the caller words the error.
unsigned parse_port_number(std::string_view text) {
    if (!all_digits(text) || text.size() > 5) return 0;
    unsigned value = 0;
    for (char c : text) value = value * 10 + static_cast<unsigned>(c - '0');
    return value <= 65535 ? value : 0;
}

bool valid_domain_label(std::string_view label) {
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    return std::all_of(label.begin(), label.end(), [](unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
}

}  // namespace

std::string_view trim(std::string_view text) {
    const auto blank = [](char c) { return c == ' ' || c == '\t'; };
    while (!text.empty() && blank(text.front())) text.remove_prefix(1);
    while (!text.empty() && blank(text.back())) text.remove_suffix(1);
    return text;
}

std::vector<std::string> split_list(const std::string& label, std::string_view value) {
    std::vector<std::string> items;
    if (trim(value).empty()) return items;
    std::size_t start = 0;
    while (true) {
        const std::size_t comma = value.find(',', start);
        const std::string_view item =
            trim(value.substr(start, comma == std::string_view::npos ? std::string_view::npos
                                                                     : comma - start));
        if (item.empty()) fail(label, "empty item in " + quote_text(value));
        items.emplace_back(item);
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return items;
}

PortRange parse_port_range(const std::string& label, const std::string& item) {
    const std::size_t dash = item.find('-');
    if (dash == std::string::npos) {
        const unsigned port = parse_port_number(item);
        if (port == 0) fail(label, quote_text(item) + " is not a port (1-65535)");
        return {static_cast<std::uint16_t>(port), static_cast<std::uint16_t>(port)};
    }
    const std::string_view text(item);
    const std::string_view first_text = text.substr(0, dash);
    const std::string_view last_text = text.substr(dash + 1);
    for (std::string_view part : {first_text, last_text}) {
        if (parse_port_number(part) == 0)
            fail(label, quote_text(item) + " is not a port range: " + quote_text(part) +
                            " is not a port (1-65535)");
    }
    const unsigned first = parse_port_number(first_text);
    const unsigned last = parse_port_number(last_text);
    if (first > last)
        fail(label, quote_text(item) + " is not a port range: " + std::to_string(first) + " > " +
                        std::to_string(last));
    return {static_cast<std::uint16_t>(first), static_cast<std::uint16_t>(last)};
}

bool parse_bool(const std::string& label, const std::string& value) {
    if (value == "true") return true;
    if (value == "false") return false;
    fail(label, "expected \"true\" or \"false\", got " + quote_text(value));
}

std::string parse_absolute_path(const std::string& label, const std::string& item) {
    if (item.find('\0') != std::string::npos) fail(label, "path contains a NUL byte");
    if (item.empty() || item.front() != '/')
        fail(label, quote_text(item) + " is not an absolute path");
    std::string normalized;
    std::size_t start = 1;
    while (start <= item.size()) {
        std::size_t slash = item.find('/', start);
        if (slash == std::string::npos) slash = item.size();
        const std::string_view component = std::string_view(item).substr(start, slash - start);
        if (component == "..") fail(label, quote_text(item) + " must not contain \"..\"");
        if (!component.empty() && component != ".") {
            normalized += '/';
            normalized += component;
        }
        start = slash + 1;
    }
    return normalized.empty() ? "/" : normalized;
}

std::string parse_domain_pattern(const std::string& label, const std::string& item) {
    std::string domain;
    domain.reserve(item.size());
    for (unsigned char c : item) {
        if (c >= 0x80)
            fail(label, quote_text(item) + " is not ASCII: use the punycode (xn--) form");
        domain += static_cast<char>(std::tolower(c));
    }
    if (!domain.empty() && domain.back() == '.') domain.pop_back();
    std::string_view rest(domain);
    if (rest.starts_with("*.")) rest.remove_prefix(2);
    if (rest.empty()) fail(label, quote_text(item) + " is not a domain pattern");
    if (rest.find('*') != std::string_view::npos)
        fail(label, quote_text(item) +
                        ": \"*\" is only allowed as the whole first label (\"*.example.com\")");
    if (rest.size() > 253) fail(label, quote_text(item) + " is longer than 253 characters");
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = rest.find('.', start);
        const std::string_view part = rest.substr(
            start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (part.empty()) fail(label, quote_text(item) + " has an empty label");
        if (!valid_domain_label(part))
            fail(label, quote_text(item) + ": label " + quote_text(part) +
                            " must be 1-63 letters, digits or \"-\", not starting or ending "
                            "with \"-\"");
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    return domain;
}

HostPort parse_host_port(const std::string& label, const std::string& item) {
    std::string host, port_text;
    if (item.starts_with("[")) {
        const std::size_t close = item.find(']');
        if (close == std::string::npos || close + 1 >= item.size() || item[close + 1] != ':')
            fail(label, quote_text(item) + " is not host:port (an IPv6 address as [2001:db8::1]:22)");
        host = item.substr(1, close - 1);
        port_text = item.substr(close + 2);
        in6_addr v6{};
        if (inet_pton(AF_INET6, host.c_str(), &v6) != 1) fail(label, quote_text(item) + ": not an IPv6 address in []");
    } else {
        const std::size_t colon = item.rfind(':');
        if (colon == std::string::npos || item.find(':') != colon)
            fail(label, quote_text(item) + " is not host:port (the port is required, e.g. git.example.com:22)");
        host = item.substr(0, colon);
        port_text = item.substr(colon + 1);
        in_addr v4{};
        if (inet_pton(AF_INET, host.c_str(), &v4) != 1) {
            if (host.starts_with("*")) fail(label, quote_text(item) + ": a wildcard names no single host");
            host = parse_domain_pattern(label, host);
        }
    }
    const unsigned port = parse_port_number(port_text);
    if (port == 0) fail(label, quote_text(item) + ": " + quote_text(port_text) + " is not a port (1-65535)");
    return {host, static_cast<std::uint16_t>(port)};
}

Cidr parse_cidr(const std::string& label, const std::string& item) {
    Cidr cidr;
    const std::size_t slash = item.find('/');
    const std::string address_text = item.substr(0, slash);
    cidr.family = address_text.find(':') != std::string::npos ? AF_INET6 : AF_INET;
    const int max_prefix = cidr.family == AF_INET6 ? 128 : 32;
    if (inet_pton(cidr.family, address_text.c_str(), cidr.address.data()) != 1)
        fail(label, quote_text(item) + " is not an IP address or CIDR block");
    cidr.prefix_length = max_prefix;
    if (slash != std::string::npos) {
        const std::string_view prefix_text = std::string_view(item).substr(slash + 1);
        if (!all_digits(prefix_text) || prefix_text.size() > 3 ||
            std::stoi(std::string(prefix_text)) > max_prefix)
            fail(label, quote_text(item) + ": prefix length must be 0-" + std::to_string(max_prefix));
        cidr.prefix_length = std::stoi(std::string(prefix_text));
    }
    // Host bits set usually means a typo ("10.0.0.1/8"); refusing it keeps the
    // rule saying exactly what the user meant.
    for (int bit = cidr.prefix_length; bit < max_prefix; ++bit) {
        if (cidr.address[bit / 8] & (0x80 >> (bit % 8)))
            fail(label, quote_text(item) + " has host bits set after /" +
                            std::to_string(cidr.prefix_length));
    }
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(cidr.family, cidr.address.data(), text, sizeof text);
    cidr.text = std::string(text) + "/" + std::to_string(cidr.prefix_length);
    return cidr;
}

}  // namespace tether::spec::policy_values
