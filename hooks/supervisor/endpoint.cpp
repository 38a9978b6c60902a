#include "hooks/supervisor/endpoint.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tether::hooks {

namespace {

bool is_v4_mapped(const Endpoint& e) {
    if (e.family != AF_INET6) return false;
    for (int i = 0; i < 10; ++i)
        if (e.bytes[i] != 0) return false;
    return e.bytes[10] == 0xff && e.bytes[11] == 0xff;
}

}  // namespace

Endpoint normalise(const Endpoint& endpoint) {
    if (!is_v4_mapped(endpoint)) return endpoint;
    Endpoint v4;
    v4.family = AF_INET;
    std::memcpy(v4.bytes.data(), endpoint.bytes.data() + 12, 4);
    v4.port = endpoint.port;
    return v4;
}

bool is_loopback_address(const Endpoint& endpoint) {
    Endpoint e = normalise(endpoint);
    if (e.family == AF_INET) return e.bytes[0] == 127;
    for (int i = 0; i < 15; ++i)
        if (e.bytes[i] != 0) return false;
    return e.bytes[15] == 1;
}

bool is_wildcard_address(const Endpoint& endpoint) {
    Endpoint e = normalise(endpoint);
    size_t length = e.family == AF_INET ? 4 : 16;
    for (size_t i = 0; i < length; ++i)
        if (e.bytes[i] != 0) return false;
    return true;
}

bool reaches_loopback(const Endpoint& endpoint) {
    return is_loopback_address(endpoint) || is_wildcard_address(endpoint);
}

std::string address_text(const Endpoint& endpoint) {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(endpoint.family, endpoint.bytes.data(), buf, sizeof buf);
    return buf;
}

namespace {

uint16_t read_family(std::span<const uint8_t> raw) {
    sa_family_t family;
    std::memcpy(&family, raw.data(), sizeof family);
    return family;
}

Endpoint read_ipv4(std::span<const uint8_t> raw) {
    sockaddr_in sin;
    std::memcpy(&sin, raw.data(), sizeof sin);
    Endpoint e;
    e.family = AF_INET;
    std::memcpy(e.bytes.data(), &sin.sin_addr, 4);
    e.port = ntohs(sin.sin_port);
    return e;
}

// The 24-byte RFC 2133 sockaddr_in6 (no scope id) is the shortest the kernel
// accepts for AF_INET6.
constexpr size_t kMinSockaddrIn6 = 24;

Endpoint read_ipv6(std::span<const uint8_t> raw) {
    sockaddr_in6 sin6{};
    std::memcpy(&sin6, raw.data(), std::min(raw.size(), sizeof sin6));
    Endpoint e;
    e.family = AF_INET6;
    std::memcpy(e.bytes.data(), &sin6.sin6_addr, 16);
    e.port = ntohs(sin6.sin6_port);
    return e;
}

}  // namespace

// The cases mirror net/ipv4/af_inet.c, net/ipv6/af_inet6.c, tcp_ipv4.c,
// tcp_ipv6.c, udp.c, udpv6 and datagram.c (6.x). Where the kernel would
// read the bytes as an endpoint, so do we; where it would refuse them, we
// refuse with its errno; where it ignores them, NoDestination. The
// supervisor then performs the call itself with these same bytes, so what
// was checked is what the kernel uses.
ParsedAddress parse_socket_address(int socket_domain, AddressUse use, std::span<const uint8_t> raw) {
    if (raw.size() < sizeof(sa_family_t)) return Refusal{EINVAL};
    uint16_t family = read_family(raw);

    if (family == AF_UNSPEC) {
        if (use == AddressUse::connect) return NoDestination{};  // disconnect
        if (socket_domain == AF_INET) {
            // inet_bind accepts AF_UNSPEC only with INADDR_ANY; udp_sendmsg
            // reads AF_UNSPEC bytes as an IPv4 address.
            if (raw.size() < sizeof(sockaddr_in)) return Refusal{EINVAL};
            Endpoint e = read_ipv4(raw);
            if (use == AddressUse::bind && !is_wildcard_address(e)) return Refusal{EAFNOSUPPORT};
            return e;
        }
        // IPv6: bind refuses; udpv6_sendmsg treats AF_UNSPEC as "no address".
        if (use == AddressUse::bind) return Refusal{EAFNOSUPPORT};
        return NoDestination{};
    }
    if (family == AF_INET) {
        if (raw.size() < sizeof(sockaddr_in)) return Refusal{EINVAL};
        // On an AF_INET6 socket, datagram connect/send take AF_INET bytes as
        // an IPv4 destination; TCP refuses them itself. Either way the only
        // destination these bytes can name is this IPv4 one.
        if (socket_domain == AF_INET6 && use == AddressUse::bind) return Refusal{EAFNOSUPPORT};
        return read_ipv4(raw);
    }
    if (family == AF_INET6) {
        if (socket_domain != AF_INET6) return Refusal{EAFNOSUPPORT};
        if (raw.size() < kMinSockaddrIn6) return Refusal{EINVAL};
        return read_ipv6(raw);
    }
    return Refusal{EAFNOSUPPORT};
}

}  // namespace tether::hooks
