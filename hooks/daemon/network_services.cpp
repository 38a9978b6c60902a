#include "hooks/daemon/network_services.hpp"

#include "spec/annotation_keys.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <set>

#include "hooks/bpf/original_destinations.hpp"
#include "hooks/bridge/loopback_bridge.hpp"
#include "hooks/dns/dns_responder.hpp"
#include "hooks/net/event_loop.hpp"
#include "hooks/net/netns_listen.hpp"
#include "hooks/net/socket_util.hpp"
#include "hooks/proxy/egress_proxy.hpp"
#include "hooks/proxy/transparent_proxy.hpp"
#include "runtime/core/error.hpp"

namespace tether::hooks {
namespace {

constexpr const char* kOutboundPortsKey = spec::keys::kAllowLocalOutboundPorts;

// "inet6" for "[::1]:80" and "::1", "inet" for the rest (names included: the
// proxy's address field holds what the client asked for).
std::string family_of(const std::string& address) {
    return address.find(':') != std::string::npos && address.find('.') == std::string::npos ? "inet6" : "inet";
}

Decision proxy_decision_line(const hooks::ProxyDecision& d, const std::string& container_id) {
    Decision line;
    line.container_id = container_id;
    line.comm = "tether-netd";
    line.syscall = "proxy";
    line.family = family_of(d.host);
    line.address = d.host;
    line.port = d.port;
    line.verdict = d.allowed ? "allow" : "deny";
    line.rule = d.rule;
    line.annotation = d.annotation;
    line.protocol = d.protocol;
    line.upstream = d.address;
    line.bytes_up = d.bytes_up;
    line.bytes_down = d.bytes_down;
    // Microseconds, rounded half up (a duration is never negative): integer
    // arithmetic rather than std::round, the one libm function tether-netd
    // used; without it the daemon maps no libm (issue 23).
    line.duration_ms = static_cast<double>(static_cast<int64_t>(d.duration_ms * 1000 + 0.5)) / 1000;
    line.error = d.error;
    return line;
}

Decision bridge_decision_line(const hooks::BridgeConnectionReport& r, const std::string& container_id) {
    Decision line;
    line.container_id = container_id;
    line.comm = "tether-netd";
    line.syscall = "bridge";
    line.family = "inet";
    line.address = "127.0.0.1";
    line.port = r.listen_port;
    // The bridge only listens on listed ports: every connection it sees was
    // allowed; a failed dial is an error of an allowed connection.
    line.verdict = "allow";
    line.rule = "allowLocalOutboundPorts:" + std::to_string(r.listen_port);
    line.protocol = "tcp";
    line.upstream = r.upstream;
    line.bytes_up = r.stats.bytes_client_to_upstream;
    line.bytes_down = r.stats.bytes_upstream_to_client;
    if (r.connect_error) line.error = std::string("connect: ") + std::strerror(r.connect_error);
    else if (r.stats.reset) line.error = "reset";
    return line;
}

Decision dns_decision_line(const dns::DnsDecision& d, const std::string& container_id) {
    Decision line;
    line.container_id = container_id;
    line.comm = "tether-netd";
    line.syscall = "dns";
    line.family = d.family == AF_INET6 ? "inet6" : "inet";
    line.address = d.name;
    line.port = dns::kDnsPortInNamespace;
    line.verdict = d.allowed ? "allow" : "deny";
    line.rule = d.rule;
    line.annotation = d.annotation;
    line.protocol = d.type;
    line.upstream = d.answer;
    line.error = d.error;
    return line;
}

}  // namespace

std::vector<uint16_t> bridged_ports(const std::vector<spec::PortRange>& ranges) {
    std::set<uint16_t> ports;
    for (const auto& range : ranges) {
        for (uint32_t port = range.first; port <= range.last; ++port) {
            ports.insert(static_cast<uint16_t>(port));
            if (ports.size() > kMaxBridgedPorts)
                throw Error(std::string(kOutboundPortsKey) + ": more than " + std::to_string(kMaxBridgedPorts) +
                            " ports; the loopback bridge listens on each port separately (two sockets per port), "
                            "list the ports the container needs");
        }
    }
    return {ports.begin(), ports.end()};
}

bool wants_egress_proxy(const spec::NetworkPolicy& network) {
    return !network.allowed_domains.empty() || !network.allowed_hosts.empty();
}

NetworkServices::NetworkServices(const spec::NetworkPolicy& network, const hooks::ProxyTimeouts& proxy_timeouts,
                                 NetworkMode mode, int container_netns, std::string container_id,
                                 std::shared_ptr<DecisionLog> log, bool transparent)
    : loop_(std::make_unique<hooks::EventLoop>()) {
    bool own_namespace = mode != NetworkMode::host;
    std::vector<uint16_t> ports = own_namespace ? bridged_ports(network.allow_local_outbound_ports)
                                                : std::vector<uint16_t>{};
    bool proxy = wants_egress_proxy(network);
    transparent = transparent && proxy;
    if (proxy && own_namespace)
        for (uint16_t port : ports)
            if (port == kProxyPortInNamespace || (transparent && port == kTransparentPortInNamespace))
                throw Error(std::string(kOutboundPortsKey) + ": port " + std::to_string(port) +
                            " is the egress proxy's " + (port == kProxyPortInNamespace ? "" : "transparent ") +
                            "port inside the container (allowedDomains or allowedHosts is set); "
                            "a bridged host port cannot share it");

    // Every listener inside the container's namespace (bridged ports and the
    // proxy's) comes from one setns helper thread: one thread and one
    // namespace switch per container, not one per service.
    std::vector<UniqueFd> bridge_listeners, proxy_listeners;
    if (own_namespace && (!ports.empty() || proxy)) {
        std::vector<uint16_t> wanted = ports;
        if (proxy) wanted.push_back(kProxyPortInNamespace);
        if (transparent) wanted.push_back(kTransparentPortInNamespace);
        for (UniqueFd& listener : hooks::listen_loopback_in_netns(container_netns, wanted)) {
            uint16_t port = hooks::local_port(listener.get());
            if (proxy && port == kProxyPortInNamespace) proxy_listeners.push_back(std::move(listener));
            else if (transparent && port == kTransparentPortInNamespace) transparent_listeners_.push_back(std::move(listener));
            else bridge_listeners.push_back(std::move(listener));
        }
        if (transparent) transparent_port_ = kTransparentPortInNamespace;
    }

    if (!ports.empty()) {
        bridge_ = std::make_unique<hooks::LoopbackBridge>(
            *loop_, [log, container_id](const hooks::BridgeConnectionReport& report) {
                log->write(bridge_decision_line(report, container_id));
            });
        for (UniqueFd& listener : bridge_listeners) bridge_->add_listener(std::move(listener));
        bridged_ports_ = ports.size();
    }

    if (proxy) {
        hooks::ProxyConfig config;
        config.allowed_domains = network.allowed_domains;
        config.denied_domains = network.denied_domains;
        for (const auto& entry : network.allowed_hosts) config.allowed_hosts.push_back({entry.host, entry.port});
        config.timeouts = proxy_timeouts;
        for (const auto& cidr : network.allow_private_upstreams) config.allow_private_upstreams.push_back(cidr.text);
        config.on_decision = [log, container_id](const hooks::ProxyDecision& decision) {
            log->write(proxy_decision_line(decision, container_id));
        };
        proxy_ = std::make_unique<hooks::EgressProxy>(*loop_, std::move(config));
        if (own_namespace && transparent) {
            dns_ = std::make_unique<dns::DnsResponder>(
                *loop_, proxy_->context(), [log, container_id](const dns::DnsDecision& decision) {
                    // write, not write_soon: the rate limit bounds the lines,
                    // and the responder's last line is written as the daemon
                    // stops.
                    log->write(dns_decision_line(decision, container_id));
                });
            for (UniqueFd& socket : hooks::bind_udp_loopback_in_netns(container_netns, dns::kDnsPortInNamespace))
                dns_->add_socket(std::move(socket));
            dns_port_ = dns::kDnsPortInNamespace;
        }
        if (own_namespace) {
            for (UniqueFd& listener : proxy_listeners) proxy_->add_listener(std::move(listener));
            proxy_port_ = kProxyPortInNamespace;
        } else {
            // The host's loopback: any free port; the runtime learns it with
            // PROXY_PORT? and the supervisor allows exactly it.
            UniqueFd listener = hooks::listen_tcp(hooks::loopback_v4(0));
            proxy_port_ = hooks::local_port(listener.get());
            proxy_->add_listener(std::move(listener));
            if (transparent) {
                // The same port on both loopbacks: a v6 connect is
                // redirected to [::1], a v4 one to 127.0.0.1.
                UniqueFd v4 = hooks::listen_tcp(hooks::loopback_v4(0));
                transparent_port_ = hooks::local_port(v4.get());
                transparent_listeners_.push_back(std::move(v4));
                try {
                    transparent_listeners_.push_back(hooks::listen_tcp(hooks::loopback_v6(transparent_port_)));
                } catch (const Error&) {
                    // No IPv6 on this host (or the port is taken there):
                    // redirected v6 connects are refused.
                }
            }
        }
    }
}

void NetworkServices::enable_transparent(UniqueFd original_destinations) {
    if (!proxy_ || transparent_listeners_.empty()) return;
    auto originals = std::make_shared<bpf::OriginalDestinations>(std::move(original_destinations));
    transparent_ = std::make_unique<hooks::TransparentProxy>(
        *loop_, *proxy_, [originals](const SocketAddress& peer) { return originals->take(peer); });
    for (UniqueFd& listener : transparent_listeners_) transparent_->add_listener(std::move(listener));
    transparent_listeners_.clear();
}

void NetworkServices::start() {
    // Not enabled (no kernel programs to redirect, or no record of where
    // connections were going): nothing may wait on a listener nobody serves.
    transparent_listeners_.clear();
    if (!transparent_) transparent_port_ = 0;
    if (!bridge_ && !proxy_) return;
    thread_ = std::thread([this] {
        try {
            loop_->run();
        } catch (...) {
            // The daemon has no stderr; the control socket and pid file go
            // with it, and the runtime's delete finds the daemon gone.
            ::_exit(1);
        }
    });
}

NetworkServices::~NetworkServices() {
    if (thread_.joinable()) {
        loop_->stop();
        thread_.join();
    }
    // Bridge and proxies before the loop they are registered with; the
    // responder before the proxy whose resolver it uses.
    dns_.reset();
    transparent_.reset();
    proxy_.reset();
    bridge_.reset();
}

}  // namespace tether::hooks
