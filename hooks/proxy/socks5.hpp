// SOCKS5 (RFC 1928), the subset a sandbox needs: no authentication, CONNECT,
// addresses as IPv4, IPv6 or a domain name (socks5h: the proxy resolves, so the
// name is checked against the rules). Pure parsing; unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tether::hooks::socks5 {

inline constexpr uint8_t kVersion = 0x05;

enum Reply : uint8_t {
    succeeded = 0x00,
    general_failure = 0x01,
    not_allowed_by_ruleset = 0x02,
    network_unreachable = 0x03,
    host_unreachable = 0x04,
    connection_refused = 0x05,
    command_not_supported = 0x07,
    address_type_not_supported = 0x08,
};

enum class ParseStatus { incomplete, ok, invalid };

// Greeting: VER NMETHODS METHODS...; offers_no_auth tells whether method 0 is there.
struct Greeting {
    size_t size = 0;
    bool offers_no_auth = false;
};
ParseStatus parse_greeting(std::string_view data, Greeting& out);

// Request: VER CMD RSV ATYP DST.ADDR DST.PORT.
struct Request {
    size_t size = 0;
    uint8_t command = 0;
    std::string host;  // dotted IPv4, IPv6 text, or the name as sent
    bool host_is_name = false;
    uint16_t port = 0;
    uint8_t unsupported_reply = succeeded;  // set when the request is well-formed but unsupported
};
ParseStatus parse_request(std::string_view data, Request& out);

// VER REP RSV ATYP=IPv4 0.0.0.0:0.
std::string make_reply(uint8_t reply);

}  // namespace tether::hooks::socks5
