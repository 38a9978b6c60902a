// Transparent egress: where a connection that the connect4/6 programs
// redirected to the proxy was going (issue 21).
//
// Why this key. The proxy holds the accepted socket; the container holds the
// client socket. Their cookies differ (SO_COOKIE on the accepted socket names
// the accepted socket), and the proxy cannot read the client socket's cookie
// without a sock_diag query per connection. connect4 only knows the cookie:
// the source port is not chosen yet when it runs. So the kernel moves the
// record once (the "handoff" sock_ops program, at TCP_CONNECT_CB, after the
// source port is chosen and before the SYN leaves) to the client's (address,
// port), which is exactly the accepted socket's peer: getpeername() gives it
// to the proxy, and no connection can reach accept() before its record is
// filed. Within the container's network namespace (or the host's, on the
// host network) one (address, port) names one live connection to the
// listener, and the handoff program deletes a stale record whenever a
// connect from that address and port was not redirected.
#pragma once

#include <optional>

#include "hooks/net/socket_util.hpp"
#include "runtime/core/unique_fd.hpp"

namespace tether::hooks::bpf {

class OriginalDestinations {
public:
    explicit OriginalDestinations(UniqueFd map) : map_(std::move(map)) {}

    // The original destination of the connection whose client end is `peer`
    // (IPv4-mapped addresses come back as IPv4), removed from the map: each
    // record is used once. nullopt when there is none (a connect to the
    // listener that was not redirected) or the map cannot be read.
    std::optional<SocketAddress> take(const SocketAddress& peer) const;

private:
    UniqueFd map_;
};

}  // namespace tether::hooks::bpf
