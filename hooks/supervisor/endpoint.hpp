// What a sockaddr means to the kernel, decided from the socket's real domain
// (SO_DOMAIN), never from the family field the caller wrote: a caller that
// passes an AF_INET6 sockaddr to an AF_INET socket does not get to choose how
// the bytes are read. Pure: bytes in, a classified destination out.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <variant>

namespace tether::hooks {

// An IP destination as the kernel will use it. IPv4 addresses live in the
// first four bytes of `bytes`.
struct Endpoint {
    int family = AF_INET;  // AF_INET or AF_INET6
    std::array<uint8_t, 16> bytes{};
    uint16_t port = 0;  // host byte order

    bool operator==(const Endpoint&) const = default;
};


// ::ffff:a.b.c.d becomes a.b.c.d; everything else is returned unchanged.
// Every decision is taken on the normalised form, so that a v4-mapped
// spelling of 127.0.0.1 meets the same rules as 127.0.0.1.
Endpoint normalise(const Endpoint& endpoint);

// 127.0.0.0/8 and ::1 (after normalise()).
bool is_loopback_address(const Endpoint& endpoint);
// 0.0.0.0 and :: . As a connect/send destination Linux sends these to the
// local host, so they are loopback for the policy; as a bind address they
// mean "every interface".
bool is_wildcard_address(const Endpoint& endpoint);
// Loopback for a destination: loopback or wildcard.
bool reaches_loopback(const Endpoint& endpoint);

// "127.0.0.1", "::1", "::ffff:127.0.0.1" (the form as given, not normalised).
std::string address_text(const Endpoint& endpoint);

// The caller's sockaddr carries no destination the policy governs: AF_UNSPEC
// on connect (dissolve the association) or on an IPv6 datagram send.
struct NoDestination {};
// The kernel would refuse these bytes with this errno; the supervisor refuses
// them the same way without performing anything.
struct Refusal {
    int error = 0;
};
using ParsedAddress = std::variant<Endpoint, NoDestination, Refusal>;

enum class AddressUse { connect, bind, send };

// Interprets `raw` (exactly the addrlen bytes the caller passed) as the
// kernel's inet/inet6 code does for a socket of `socket_domain` and use.
// socket_domain must be AF_INET or AF_INET6.
ParsedAddress parse_socket_address(int socket_domain, AddressUse use, std::span<const uint8_t> raw);

}  // namespace tether::hooks
