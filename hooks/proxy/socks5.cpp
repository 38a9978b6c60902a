#include "hooks/proxy/socks5.hpp"

#include <arpa/inet.h>

namespace tether::hooks::socks5 {

ParseStatus parse_greeting(std::string_view data, Greeting& out) {
    if (data.size() < 2) return ParseStatus::incomplete;
    if (static_cast<uint8_t>(data[0]) != kVersion) return ParseStatus::invalid;
    size_t methods = static_cast<uint8_t>(data[1]);
    if (methods == 0) return ParseStatus::invalid;
    if (data.size() < 2 + methods) return ParseStatus::incomplete;
    out.size = 2 + methods;
    out.offers_no_auth = data.substr(2, methods).find('\0') != std::string_view::npos;
    return ParseStatus::ok;
}

ParseStatus parse_request(std::string_view data, Request& out) {
    if (data.size() < 5) return ParseStatus::incomplete;
    if (static_cast<uint8_t>(data[0]) != kVersion || data[2] != 0) return ParseStatus::invalid;
    out.command = static_cast<uint8_t>(data[1]);
    uint8_t atyp = static_cast<uint8_t>(data[3]);
    size_t address_size;
    if (atyp == 0x01) {
        address_size = 4;
    } else if (atyp == 0x04) {
        address_size = 16;
    } else if (atyp == 0x03) {
        address_size = 1 + static_cast<uint8_t>(data[4]);
    } else {
        out.unsupported_reply = address_type_not_supported;
        out.size = data.size();
        return ParseStatus::ok;
    }
    size_t total = 4 + address_size + 2;
    if (data.size() < total) return ParseStatus::incomplete;
    const char* address = data.data() + 4;
    if (atyp == 0x03) {
        out.host.assign(address + 1, address_size - 1);
        out.host_is_name = true;
        if (out.host.empty() || out.host.find('\0') != std::string::npos) return ParseStatus::invalid;
    } else {
        char text[INET6_ADDRSTRLEN];
        inet_ntop(atyp == 0x01 ? AF_INET : AF_INET6, address, text, sizeof text);
        out.host = text;
    }
    out.port = static_cast<uint16_t>((static_cast<uint8_t>(data[total - 2]) << 8) | static_cast<uint8_t>(data[total - 1]));
    out.size = total;
    if (out.command != 0x01) out.unsupported_reply = command_not_supported;  // BIND and UDP ASSOCIATE
    return ParseStatus::ok;
}

std::string make_reply(uint8_t reply) {
    return std::string{static_cast<char>(kVersion), static_cast<char>(reply), 0, 1, 0, 0, 0, 0, 0, 0};
}

}  // namespace tether::hooks::socks5
