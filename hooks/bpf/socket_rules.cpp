#include "hooks/bpf/socket_rules.hpp"

#include <cerrno>

#include "spec/annotation_keys.hpp"
#include <stdexcept>

namespace tether::hooks::bpf {
namespace {

constexpr const char* kOutboundPortsKey = spec::keys::kAllowLocalOutboundPorts;
constexpr const char* kBindPortsKey = spec::keys::kAllowBindPorts;
constexpr const char* kDnsKey = spec::keys::kAllowDns;
constexpr const char* kDomainsKey = spec::keys::kAllowedDomains;

// Indexed by the rule's byte; entry 0 is unused.
const RuleInfo kRules[] = {
    {"", false, 0, ""},
    {"own-loopback", true, 0, ""},
    {"host-loopback-port", true, 0, ""},
    {"egress-proxy", true, 0, ""},
    {"sandbox-bound-port", true, 0, ""},
    {"dns-resolver", true, 0, ""},
    {"dns-not-allowed", false, ECONNREFUSED, kDnsKey},
    {"dns-not-allowed", false, EACCES, kDnsKey},
    {"host-loopback-port-not-listed", false, ECONNREFUSED, kOutboundPortsKey},
    {"direct-egress", false, EACCES, kDomainsKey},
    {"bind-port-not-listed", false, EACCES, kBindPortsKey},
    {"bind-own-namespace", true, 0, ""},
    {"bind-host-loopback", true, 0, ""},
    {"bind-wildcard-narrowed-to-loopback", true, 0, ""},
    {"bind-non-loopback-on-host-network", false, EACCES, ""},
    {"transparent-proxy", true, 0, ""},
    {"dns-responder", true, 0, ""},
};
static_assert(sizeof kRules / sizeof kRules[0] == kLastRule + 1);

}  // namespace

const RuleInfo& rule_info(Rule rule) {
    auto index = static_cast<uint8_t>(rule);
    if (index == 0 || index > kLastRule) throw std::out_of_range("socket rule " + std::to_string(index));
    return kRules[index];
}

std::vector<PortSpan> port_spans(const std::set<uint16_t>& ports) {
    std::vector<PortSpan> spans;
    for (uint16_t port : ports) {
        if (!spans.empty() && spans.back().last + 1 == port) {
            spans.back().last = port;
            continue;
        }
        spans.push_back({port, port});
    }
    return spans;
}

SocketRules socket_rules_for(const SupervisorPolicy& policy) {
    SocketRules rules;
    rules.mode = policy.mode;
    if (policy.mode == NetworkMode::host) {
        rules.host_loopback_ports = port_spans(policy.host_loopback_ports);
        rules.proxy_port = policy.proxy_port;
        rules.track_bound_ports = true;
    }
    rules.allow_dns = policy.allow_dns;
    for (const auto& resolver : policy.dns_resolvers) {
        Endpoint r = normalise(resolver);
        r.port = 53;
        bool seen = false;
        for (const auto& known : rules.resolvers) seen = seen || known == r;
        if (!seen) rules.resolvers.push_back(r);
    }
    if (policy.bind_ports) rules.bind_ports = port_spans(*policy.bind_ports);
    rules.audit = policy.audit;
    // Audit mode enforces nothing, so it redirects nothing either.
    if (!policy.audit) rules.transparent_port = policy.transparent_port;
    if (!policy.audit && policy.mode != NetworkMode::host) rules.dns_port = policy.dns_port;
    return rules;
}

}  // namespace tether::hooks::bpf
