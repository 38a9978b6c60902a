// The part of the sandbox policy the supervisor enforces, in the supervisor's
// own terms. The daemon fills it from the annotations (policy_from_state.cpp);
// once spec/policy.hpp (SandboxPolicy) is the one parser, only that mapping
// changes.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <vector>

#include "hooks/supervisor/endpoint.hpp"

namespace tether::hooks {

// How the container's network relates to the host's; the daemon learns it by
// comparing the init's netns with its own and looking for a non-lo interface.
enum class NetworkMode {
    own_namespace,  // own netns, only lo: 127.0.0.1 is the container's own
    host,           // the host's netns: 127.0.0.1 is the host's
    veth,           // own netns with a veth: lo is its own, the veth leads out
};

struct SupervisorPolicy {
    NetworkMode mode = NetworkMode::own_namespace;
    // run.tether.network.allowLocalOutboundPorts: host loopback ports.
    std::set<uint16_t> host_loopback_ports;
    // The egress proxy's port on the host loopback (0: no proxy).
    uint16_t proxy_port = 0;
    // run.tether.network.allowDNS: the resolvers (port 53, UDP and TCP).
    bool allow_dns = false;
    std::vector<Endpoint> dns_resolvers;
    // run.tether.network.allowBindPorts: nullopt = any port.
    std::optional<std::set<uint16_t>> bind_ports;
    // run.tether.audit: log what would be denied, deny nothing.
    bool audit = false;
    // Transparent egress: the port of the proxy's transparent listener on the
    // container's loopback (host network: the host's), 0 when off; for the
    // kernel programs (socket_rules_for), which redirect direct TCP connects
    // there. The supervisor never lets direct egress through: it decides
    // only where those programs are not attached, and then nothing
    // redirects.
    uint16_t transparent_port = 0;
    // Allowlist-only DNS (issue 21, own network namespace only): the port of
    // tether-netd's DNS responder on the container's loopback, 0 when off;
    // the kernel programs send every UDP datagram to port 53 there
    // (hooks/dns/dns_responder.hpp).
    uint16_t dns_port = 0;
};

}  // namespace tether::hooks
