// Listening sockets created inside a container's network namespace. A socket keeps
// the namespace it was created in, so the daemon (in the host namespace) can
// accept on them while nothing at all runs inside the container.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/core/unique_fd.hpp"

namespace tether::hooks {

// For each port: a listener on 127.0.0.1:port and, when the namespace has IPv6,
// one on [::1]:port, created inside the network namespace netns_fd (an fd of
// /proc/<pid>/ns/net). A short-lived helper thread does the setns, so the
// calling thread never leaves the host namespace. Brings `lo` up if it is down.
// Order: port by port, IPv4 first. local_port(fd) tells each one's port.
std::vector<UniqueFd> listen_loopback_in_netns(int netns_fd, const std::vector<uint16_t>& ports);

// A UDP socket bound to 127.0.0.1:port and, when the namespace has IPv6, one
// on [::1]:port (IPV6_V6ONLY), made inside netns_fd as above (the DNS
// responder's, hooks/dns/dns_responder.hpp).
std::vector<UniqueFd> bind_udp_loopback_in_netns(int netns_fd, uint16_t port);

// Sets IFF_UP on `lo` in the calling thread's network namespace (no-op if up).
void bring_loopback_up();

}  // namespace tether::hooks
