// The supervisor's network rules (hooks/supervisor/decision.cpp) in the form
// the kernel enforces them: cgroup socket-address BPF programs generated per
// container (socket_programs.hpp). Pure: SupervisorPolicy in, rules out,
// table-tested in tests/unit/hooks/socket_rules_test.cpp.
//
// Every rule here names the decision.cpp rule it mirrors; a program that
// denies returns the same errno and the event carries the same rule name, so
// the decision log reads the same whichever of the two decided.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hooks/supervisor/supervisor_policy.hpp"

namespace tether::hooks::bpf {

struct PortSpan {
    uint16_t first = 0;
    uint16_t last = 0;
    bool operator==(const PortSpan&) const = default;
};

// What a program decided, as carried in its event (one byte). The names and
// errnos are decision.cpp's.
enum class Rule : uint8_t {
    own_loopback = 1,
    host_loopback_port,
    egress_proxy,
    sandbox_bound_port,
    dns_resolver,
    dns_not_allowed_loopback,  // a resolver on loopback, allowDNS unset: ECONNREFUSED
    dns_not_allowed,           // a resolver elsewhere: EACCES
    host_loopback_port_not_listed,
    direct_egress,
    bind_port_not_listed,
    bind_own_namespace,
    bind_host_loopback,
    bind_wildcard_narrowed,
    bind_non_loopback_on_host_network,
    transparent_proxy,  // a direct TCP connect, redirected to the egress proxy (issue 21)
    dns_responder,      // UDP to port 53, redirected to tether-netd's DNS responder (issue 21)
};
inline constexpr uint8_t kLastRule = static_cast<uint8_t>(Rule::dns_responder);

struct RuleInfo {
    const char* name;        // the decision log's "rule"
    bool allows;
    int deny_errno;          // 0 when it allows
    const char* annotation;  // the key that would allow a denied attempt
};
// Throws std::out_of_range for a byte that names no rule.
const RuleInfo& rule_info(Rule rule);

struct SocketRules {
    NetworkMode mode = NetworkMode::own_namespace;
    // Host network only: loopback ports reachable (allowLocalOutboundPorts),
    // merged into spans, and the proxy's port, checked separately so that the
    // log names it.
    std::vector<PortSpan> host_loopback_ports;
    uint16_t proxy_port = 0;
    // Host network only: loopback ports the sandbox bound itself are
    // reachable (a post-bind program records them in a map).
    bool track_bound_ports = false;
    bool allow_dns = false;
    // Resolvers, normalised (v4-mapped become IPv4), without duplicates.
    std::vector<Endpoint> resolvers;
    // nullopt: any bind port (own network namespace without a list).
    std::optional<std::vector<PortSpan>> bind_ports;
    bool audit = false;
    // Transparent egress (docs/network-daemon.md, "Transparent mode"): a TCP
    // connect to any non-loopback address is rewritten to the proxy's
    // transparent listener on this port of the same family's loopback
    // (0: off, a direct connect is refused as direct-egress).
    uint16_t transparent_port = 0;
    // Allowlist-only DNS (own network namespace): a UDP connect or datagram
    // to port 53 of any address is rewritten to this port of the same
    // family's loopback, where tether-netd answers; the reply's source is
    // rewritten back to the address the query was sent to (recvmsg4/6).
    // 0: off.
    uint16_t dns_port = 0;
};

SocketRules socket_rules_for(const SupervisorPolicy& policy);

// Sorted, overlapping and adjacent ports merged: {1,2,3,7} -> [1-3],[7-7].
std::vector<PortSpan> port_spans(const std::set<uint16_t>& ports);

}  // namespace tether::hooks::bpf
