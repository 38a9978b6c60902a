#include "hooks/daemon/policy_from_state.hpp"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "runtime/core/error.hpp"

namespace tether::hooks {

NetworkMode detect_network_mode(pid_t init_pid) {
    std::string proc = "/proc/" + std::to_string(init_pid);
    struct stat theirs {}, ours {};
    if (::stat((proc + "/ns/net").c_str(), &theirs) != 0) throw_errno("stat " + proc + "/ns/net");
    if (::stat("/proc/self/ns/net", &ours) != 0) throw_errno("stat /proc/self/ns/net");
    if (theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino) return NetworkMode::host;
    // /proc/<pid>/net/dev lists the interfaces of <pid>'s netns.
    std::ifstream dev(proc + "/net/dev");
    std::string line;
    int row = 0;
    while (std::getline(dev, line)) {
        if (++row <= 2) continue;  // two header lines
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = line.substr(0, colon);
        name.erase(0, name.find_first_not_of(' '));
        if (name != "lo") return NetworkMode::veth;
    }
    return NetworkMode::own_namespace;
}

std::vector<Endpoint> read_resolvers(const std::string& resolv_conf_path) {
    std::vector<Endpoint> resolvers;
    std::ifstream in(resolv_conf_path);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string keyword, address;
        if (!(words >> keyword >> address) || keyword != "nameserver") continue;
        address = address.substr(0, address.find('%'));  // fe80::1%eth0
        Endpoint e;
        e.port = 53;
        if (inet_pton(AF_INET, address.c_str(), e.bytes.data()) == 1) {
            e.family = AF_INET;
        } else if (inet_pton(AF_INET6, address.c_str(), e.bytes.data()) == 1) {
            e.family = AF_INET6;
        } else {
            continue;
        }
        resolvers.push_back(e);
    }
    return resolvers;
}

namespace {

std::set<uint16_t> port_set(const std::vector<spec::PortRange>& ranges) {
    std::set<uint16_t> ports;
    for (const auto& r : ranges)
        for (uint32_t p = r.first; p <= r.last; ++p) ports.insert(static_cast<uint16_t>(p));
    return ports;
}

}  // namespace

SupervisorPolicy supervisor_policy_for(const spec::SandboxPolicy& policy, NetworkMode mode, uint16_t proxy_port,
                                       std::vector<Endpoint> resolvers) {
    SupervisorPolicy p;
    p.mode = mode;
    p.host_loopback_ports = port_set(policy.network.allow_local_outbound_ports);
    p.proxy_port = proxy_port;
    p.allow_dns = policy.network.allow_dns;
    p.dns_resolvers = std::move(resolvers);
    // The mode's default (any port in an own namespace, none on the host's)
    // is resolved by the policy itself. An own namespace without a list
    // checks no bind at all (no set): building the default "1-65535" as a
    // set only to drop it was 65535 allocations, most of the hook's CPU time
    // on every sandboxed create.
    if (mode == NetworkMode::host || policy.network.allow_bind_ports)
        p.bind_ports = port_set(policy.effective_bind_ports(mode != NetworkMode::host));
    p.audit = policy.audit();
    return p;
}

}  // namespace tether::hooks
