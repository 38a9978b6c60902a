// Which kind of address a resolved name points to. The proxy refuses every
// non-public upstream (unless allowPrivateUpstreams lists it) so that an allowed
// name cannot be pointed, by DNS, at the host's own services, the LAN, or cloud
// metadata on 169.254.169.254 (SSRF / DNS rebinding). Pure; unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hooks/net/socket_util.hpp"

namespace tether::hooks {

enum class AddressClass {
    public_unicast,
    loopback,       // 127.0.0.0/8, ::1
    link_local,     // 169.254.0.0/16, fe80::/10 (cloud metadata lives here)
    private_network,  // 10/8, 172.16/12, 192.168/16, fc00::/7
    shared_cgnat,   // 100.64.0.0/10
    unspecified,    // 0.0.0.0/8, ::
    multicast,      // 224.0.0.0/4, ff00::/8
    reserved,       // 240.0.0.0/4 and broadcast, IETF/doc ranges, 192.0.0.0/24
};

// IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64
// (64:ff9b::/96) addresses are classified by the IPv4 address they carry: a
// socket dialling ::ffff:127.0.0.1 reaches host loopback.
AddressClass classify_address(const SocketAddress& address);
std::string_view address_class_name(AddressClass kind);

// A CIDR block ("127.0.0.0/8", "fd00::/8", or a bare address = one host).
struct Cidr {
    int family = 0;  // AF_INET or AF_INET6
    uint8_t bytes[16] = {};
    unsigned prefix = 0;

    static std::optional<Cidr> parse(std::string_view text);
    // IPv4-mapped IPv6 addresses match IPv4 blocks.
    bool contains(const SocketAddress& address) const;
};

// The IPv4 address inside an IPv4-mapped/compatible/NAT64 IPv6 address, if any.
std::optional<SocketAddress> embedded_ipv4(const SocketAddress& address);

}  // namespace tether::hooks
