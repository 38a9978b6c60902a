#include "hooks/bpf/original_destinations.hpp"

#include <arpa/inet.h>

#include <cstring>

#include "hooks/bpf/socket_programs.hpp"
#include "runtime/core/bpf_syscall.hpp"
#include "runtime/core/error.hpp"

namespace tether::hooks::bpf {

using tether::bpf::map_delete;
using tether::bpf::map_lookup;

namespace {

ClientKey key_of(const SocketAddress& peer) {
    ClientKey key{};
    key.port = peer.port();
    if (peer.family() == AF_INET) {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(&peer.storage);
        uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        std::memcpy(mapped + 12, &v4->sin_addr, 4);
        std::memcpy(key.address, mapped, 16);
    } else {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&peer.storage);
        std::memcpy(key.address, &v6->sin6_addr, 16);
    }
    return key;
}

SocketAddress address_of(const OriginalDestination& d) {
    uint16_t port = ntohs(static_cast<uint16_t>(d.port_be & 0xffff));
    in6_addr v6{};
    std::memcpy(&v6, d.address, 16);
    if (d.family == 4 || IN6_IS_ADDR_V4MAPPED(&v6)) {
        in_addr v4{};
        std::memcpy(&v4, d.family == 4 ? &d.address[0] : &d.address[3], 4);
        return SocketAddress::ipv4(v4, port);
    }
    return SocketAddress::ipv6(v6, port);
}

}  // namespace

std::optional<SocketAddress> OriginalDestinations::take(const SocketAddress& peer) const {
    if (!map_ || (peer.family() != AF_INET && peer.family() != AF_INET6)) return std::nullopt;
    ClientKey key = key_of(peer);
    OriginalDestination found{};
    try {
        if (!map_lookup(map_.get(), &key, &found)) return std::nullopt;
        map_delete(map_.get(), &key);
    } catch (const Error&) {
        return std::nullopt;  // refused by the caller, and logged there
    }
    return address_of(found);
}

}  // namespace tether::hooks::bpf
