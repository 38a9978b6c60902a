#include "hooks/supervisor/decision.hpp"

#include <cerrno>

#include "spec/annotation_keys.hpp"

namespace tether::hooks {
namespace {

constexpr const char* kOutboundPortsKey = spec::keys::kAllowLocalOutboundPorts;
constexpr const char* kBindPortsKey = spec::keys::kAllowBindPorts;
constexpr const char* kDnsKey = spec::keys::kAllowDns;
constexpr const char* kDomainsKey = spec::keys::kAllowedDomains;
constexpr uint16_t kDnsPort = 53;
constexpr uint16_t kFirstUnprivilegedPort = 1024;

Verdict allow(std::string rule) {
    Verdict v;
    v.allowed = true;
    v.rule = std::move(rule);
    return v;
}

Verdict deny(int error, std::string rule, std::string annotation) {
    Verdict v;
    v.deny_errno = error;
    v.rule = std::move(rule);
    v.annotation = std::move(annotation);
    return v;
}

bool is_resolver(const SupervisorPolicy& policy, const Endpoint& destination) {
    if (destination.port != kDnsPort) return false;
    for (const auto& resolver : policy.dns_resolvers) {
        Endpoint r = normalise(resolver);
        if (r.family == destination.family && r.bytes == destination.bytes) return true;
    }
    return false;
}

Verdict decide_destination(const SupervisorPolicy& policy, const DecisionRequest& request) {
    Endpoint to = normalise(request.destination);
    if (policy.allow_dns && is_resolver(policy, to)) return allow("dns-resolver");

    if (reaches_loopback(to)) {
        // Own network namespace (with or without a veth): 127.0.0.1 is the
        // container's own lo; host ports reach it only through the bridge,
        // whose listeners are there on the allowed ports.
        if (policy.mode != NetworkMode::host) return allow("own-loopback");

        // Host network: 127.0.0.1 is the host's. Every host service (an
        // admin API on 127.0.0.1:8000) would be exposed by a blanket
        // loopback rule; only listed ports, the proxy and the sandbox's own
        // servers are reachable.
        if (policy.host_loopback_ports.count(to.port)) return allow("host-loopback-port");
        if (policy.proxy_port && to.port == policy.proxy_port) return allow("egress-proxy");
        if (request.sandbox_bound_ports && request.sandbox_bound_ports->count(to.port))
            return allow("sandbox-bound-port");
        // (An allowed resolver was let through above.)
        if (is_resolver(policy, to)) return deny(ECONNREFUSED, "dns-not-allowed", kDnsKey);
        return deny(ECONNREFUSED, "host-loopback-port-not-listed", kOutboundPortsKey);
    }

    // Anything else is direct egress; it goes through the proxy or nowhere.
    if (is_resolver(policy, to)) return deny(EACCES, "dns-not-allowed", kDnsKey);
    return deny(EACCES, "direct-egress", kDomainsKey);
}

Verdict decide_bind(const SupervisorPolicy& policy, const DecisionRequest& request) {
    Endpoint at = normalise(request.destination);
    // The supervisor binds with root's privileges; without this check a
    // container without CAP_NET_BIND_SERVICE could take port 22 or 80.
    if (at.port != 0 && at.port < kFirstUnprivilegedPort && !request.caller_may_bind_privileged_ports)
        return deny(EACCES, "privileged-port-needs-CAP_NET_BIND_SERVICE", "");
    if (policy.bind_ports && at.port != 0 && !policy.bind_ports->count(at.port))
        return deny(EACCES, "bind-port-not-listed", kBindPortsKey);

    if (policy.mode != NetworkMode::host) return allow("bind-own-namespace");

    // Host network: a sandboxed server must not listen on the host's real
    // interfaces.
    if (is_loopback_address(at)) return allow("bind-host-loopback");
    if (is_wildcard_address(request.destination)) {
        Verdict v = allow("bind-wildcard-narrowed-to-loopback");
        Endpoint narrowed = request.destination;
        narrowed.bytes = {};
        if (narrowed.family == AF_INET6 && at.family == AF_INET) {
            // ::ffff:0.0.0.0 -> ::ffff:127.0.0.1
            narrowed.bytes[10] = narrowed.bytes[11] = 0xff;
            narrowed.bytes[12] = 127;
            narrowed.bytes[15] = 1;
        } else if (narrowed.family == AF_INET6) {
            narrowed.bytes[15] = 1;
        } else {
            narrowed.bytes[0] = 127;
            narrowed.bytes[3] = 1;
        }
        v.bind_instead = narrowed;
        return v;
    }
    return deny(EACCES, "bind-non-loopback-on-host-network", "");
}

}  // namespace

Verdict decide(const SupervisorPolicy& policy, const DecisionRequest& request) {
    if (request.socket_type != SOCK_STREAM && request.socket_type != SOCK_DGRAM)
        return deny(EACCES, "socket-type-not-supervised", "");
    if (request.operation == Operation::bind) return decide_bind(policy, request);
    return decide_destination(policy, request);
}

}  // namespace tether::hooks
