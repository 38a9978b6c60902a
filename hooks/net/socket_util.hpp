// Small, throwing wrappers around the socket calls the bridge and the proxy share.
// Every socket made here is non-blocking and close-on-exec: the daemon never
// hands its sockets to a child, so when it dies every bridged connection dies too
// (fail closed).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/core/unique_fd.hpp"

namespace tether::hooks {

// An IPv4 or IPv6 socket address with its port.
struct SocketAddress {
    sockaddr_storage storage{};
    socklen_t length = 0;

    int family() const { return storage.ss_family; }
    uint16_t port() const;
    const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
    // "127.0.0.1:80" / "[::1]:80"
    std::string to_string() const;
    // "127.0.0.1" / "::1"
    std::string ip_string() const;
    // 127.0.0.0/8 or ::1
    bool is_loopback() const;

    static SocketAddress ipv4(const in_addr& addr, uint16_t port);
    static SocketAddress ipv6(const in6_addr& addr, uint16_t port);
    static SocketAddress from_sockaddr(const sockaddr* sa, socklen_t len);
    // Parses a numeric IPv4/IPv6 literal (no brackets, no names); nullopt otherwise.
    static std::optional<SocketAddress> parse_ip(std::string_view ip, uint16_t port);
};

SocketAddress loopback_v4(uint16_t port);
SocketAddress loopback_v6(uint16_t port);

// Listening TCP socket on addr (SO_REUSEADDR; IPV6_V6ONLY for IPv6).
UniqueFd listen_tcp(const SocketAddress& addr, int backlog = 1024);
// The port a socket is bound to.
uint16_t local_port(int fd);
// The address a socket is bound to.
SocketAddress local_address(int fd);

// A non-blocking connect that has been started: fd is valid and error is 0 when
// the connection is established or in progress (wait for EPOLLOUT, then
// take_socket_error); otherwise error holds the errno (e.g. ECONNREFUSED).
struct ConnectAttempt {
    UniqueFd fd;
    int error = 0;
};
ConnectAttempt start_connect(const SocketAddress& addr);
// SO_ERROR of a socket whose non-blocking connect has finished (0 = connected).
int take_socket_error(int fd);

// Small request/response exchanges must not wait for Nagle + delayed ACK (~40 ms).
void set_nodelay(int fd);
// For sockets whose peer is on this host's loopback only (the bridge's two
// sides): selects "reno", which does not pace. With BBR (a common default, and
// this project's test host's) every skb is paced by an hrtimer even on loopback,
// where there is no bottleneck to pace for; on the bridge that cost 30-40% of
// the CPU per GiB relayed (docs/benchmarks.md). Reno is built into
// every kernel and always allowed without privilege. Best effort: on failure
// the default stays.
// Never for sockets that leave the host (the proxy keeps the default for
// upstreams that are not on loopback).
void use_unpaced_congestion_control(int fd);
// Makes the next close() send RST instead of FIN: how a peer learns that the
// other side of a relayed connection was reset rather than closed cleanly.
void set_reset_on_close(int fd);

}  // namespace tether::hooks
