#include "hooks/bpf/program_policy.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstring>

namespace tether::hooks::bpf {
namespace {

void set_ports(uint32_t (&bitmap)[kPortBitmapWords], const std::vector<PortSpan>& spans) {
    for (const auto& span : spans)
        for (uint32_t port = span.first; port <= span.last; ++port) bitmap[port >> 5] |= 1u << (port & 31);
}

}  // namespace

std::unique_ptr<ProgramPolicy> program_policy_for(const SocketRules& rules, uint64_t cgroup_id, uint64_t slot) {
    auto policy = std::make_unique<ProgramPolicy>();
    std::memset(policy.get(), 0, sizeof(ProgramPolicy));
    policy->cgroup_id = cgroup_id;
    policy->slot = slot;
    policy->ready = kPolicyReady;
    policy->host_network = rules.mode == NetworkMode::host;
    policy->allow_dns = rules.allow_dns;
    policy->audit = rules.audit;
    policy->track_bound_ports = rules.track_bound_ports;
    policy->proxy_port = rules.proxy_port;
    policy->transparent_port_be = htons(rules.transparent_port);
    policy->dns_port_be = htons(rules.dns_port);
    size_t filled = 0;
    for (const auto& r : rules.resolvers) {
        if (filled == kMaxPolicyResolvers) break;
        PolicyResolver& out = policy->resolvers[filled++];
        out.family = r.family == AF_INET ? 4 : 6;
        std::memcpy(out.address, r.bytes.data(), r.family == AF_INET ? 4 : 16);
    }
    set_ports(policy->host_loopback_ports, rules.host_loopback_ports);
    if (rules.bind_ports) {
        policy->check_bind_ports = 1;
        set_ports(policy->bind_ports, *rules.bind_ports);
    }
    return policy;
}

}  // namespace tether::hooks::bpf
