#include "hooks/proxy/address_class.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace tether::hooks {

namespace {

const uint8_t* v4_bytes(const SocketAddress& a) {
    return reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in*>(&a.storage)->sin_addr);
}
const uint8_t* v6_bytes(const SocketAddress& a) {
    return reinterpret_cast<const sockaddr_in6*>(&a.storage)->sin6_addr.s6_addr;
}

AddressClass classify_v4(const uint8_t* b) {
    if (b[0] == 127) return AddressClass::loopback;
    if (b[0] == 0) return AddressClass::unspecified;
    if (b[0] == 169 && b[1] == 254) return AddressClass::link_local;
    if (b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168))
        return AddressClass::private_network;
    if (b[0] == 100 && (b[1] & 0xc0) == 64) return AddressClass::shared_cgnat;
    if ((b[0] & 0xf0) == 224) return AddressClass::multicast;
    if ((b[0] & 0xf0) == 240) return AddressClass::reserved;  // includes 255.255.255.255
    if (b[0] == 192 && b[1] == 0 && (b[2] == 0 || b[2] == 2)) return AddressClass::reserved;
    if (b[0] == 198 && (b[1] == 18 || b[1] == 19)) return AddressClass::reserved;  // benchmarking
    if ((b[0] == 198 && b[1] == 51 && b[2] == 100) || (b[0] == 203 && b[1] == 0 && b[2] == 113))
        return AddressClass::reserved;  // documentation
    return AddressClass::public_unicast;
}

AddressClass classify_v6(const uint8_t* b) {
    static const uint8_t zero[16] = {};
    if (std::memcmp(b, zero, 16) == 0) return AddressClass::unspecified;
    if (std::memcmp(b, zero, 15) == 0 && b[15] == 1) return AddressClass::loopback;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressClass::link_local;
    if ((b[0] & 0xfe) == 0xfc) return AddressClass::private_network;
    if (b[0] == 0xff) return AddressClass::multicast;
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return AddressClass::reserved;  // doc
    return AddressClass::public_unicast;
}

}  // namespace

std::optional<SocketAddress> embedded_ipv4(const SocketAddress& address) {
    if (address.family() != AF_INET6) return std::nullopt;
    const uint8_t* b = v6_bytes(address);
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t compatible[12] = {};
    static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    bool carries_v4 = std::memcmp(b, mapped, 12) == 0 || std::memcmp(b, nat64, 12) == 0 ||
                      // ::a.b.c.d, but not :: and ::1 themselves
                      (std::memcmp(b, compatible, 12) == 0 && (b[12] | b[13] | b[14]) != 0);
    if (!carries_v4) return std::nullopt;
    in_addr v4;
    std::memcpy(&v4, b + 12, 4);
    return SocketAddress::ipv4(v4, address.port());
}

AddressClass classify_address(const SocketAddress& address) {
    if (auto v4 = embedded_ipv4(address)) return classify_v4(v4_bytes(*v4));
    if (address.family() == AF_INET) return classify_v4(v4_bytes(address));
    if (address.family() == AF_INET6) return classify_v6(v6_bytes(address));
    return AddressClass::reserved;
}

std::string_view address_class_name(AddressClass kind) {
    switch (kind) {
        case AddressClass::public_unicast: return "public";
        case AddressClass::loopback: return "loopback";
        case AddressClass::link_local: return "link-local";
        case AddressClass::private_network: return "private";
        case AddressClass::shared_cgnat: return "cgnat";
        case AddressClass::unspecified: return "unspecified";
        case AddressClass::multicast: return "multicast";
        case AddressClass::reserved: return "reserved";
    }
    return "reserved";
}

std::optional<Cidr> Cidr::parse(std::string_view text) {
    std::string_view ip = text;
    std::optional<unsigned> prefix;
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
        ip = text.substr(0, slash);
        std::string_view digits = text.substr(slash + 1);
        unsigned value = 0;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty()) return std::nullopt;
        prefix = value;
    }
    auto address = SocketAddress::parse_ip(ip, 0);
    if (!address) return std::nullopt;
    Cidr cidr;
    cidr.family = address->family();
    unsigned max_prefix = cidr.family == AF_INET ? 32 : 128;
    cidr.prefix = prefix.value_or(max_prefix);
    if (cidr.prefix > max_prefix) return std::nullopt;
    std::memcpy(cidr.bytes, cidr.family == AF_INET ? v4_bytes(*address) : v6_bytes(*address), max_prefix / 8);
    return cidr;
}

bool Cidr::contains(const SocketAddress& address) const {
    std::optional<SocketAddress> v4 = embedded_ipv4(address);
    const SocketAddress& candidate = v4 ? *v4 : address;
    if (candidate.family() != family) return false;
    const uint8_t* b = family == AF_INET ? v4_bytes(candidate) : v6_bytes(candidate);
    unsigned full = prefix / 8, rest = prefix % 8;
    if (std::memcmp(b, bytes, full) != 0) return false;
    if (rest == 0) return true;
    uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
    return (b[full] & mask) == (bytes[full] & mask);
}

}  // namespace tether::hooks
