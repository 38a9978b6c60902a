// A TLS ClientHello built by hand, for the transparent proxy's tests.
#pragma once

#include <string>

namespace tether::hooks::testing {

inline std::string u16(size_t n) { return {static_cast<char>(n >> 8), static_cast<char>(n & 0xff)}; }
inline std::string u24(size_t n) { return std::string(1, static_cast<char>(n >> 16)) + u16(n & 0xffff); }

// A TLS 1.2-style ClientHello record carrying `sni` ("" for none), with an
// unrelated extension before it, as real clients send.
inline std::string client_hello(const std::string& sni, size_t padding = 0) {
    std::string extensions;
    extensions += u16(0x000a) + u16(4) + u16(2) + u16(0x001d);  // supported_groups: x25519
    if (!sni.empty()) {
        std::string entry = std::string(1, '\0') + u16(sni.size()) + sni;
        std::string list = u16(entry.size()) + entry;
        extensions += u16(0x0000) + u16(list.size()) + list;
    }
    if (padding) extensions += u16(0x0015) + u16(padding) + std::string(padding, '\0');
    std::string body = "\x03\x03" + std::string(32, 'r') + std::string(1, '\0') + u16(2) + "\x13\x01" +
                       std::string("\x01\x00", 2) + u16(extensions.size()) + extensions;
    std::string handshake = "\x01" + u24(body.size()) + body;
    std::string records;
    // Records of at most 16 KiB, as a large hello is split.
    for (size_t at = 0; at < handshake.size(); at += 16384) {
        std::string fragment = handshake.substr(at, 16384);
        records += "\x16\x03\x01" + u16(fragment.size()) + fragment;
    }
    return records;
}

}  // namespace tether::hooks::testing
