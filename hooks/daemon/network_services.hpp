// The daemon's data path: the loopback bridge and the egress proxy, served by
// one EventLoop on one thread of their own (the control socket and the
// supervisor keep theirs).
//
// What runs where, by network mode (see docs/network-daemon.md):
//   own namespace (with or without a veth)
//     bridge: a listener on 127.0.0.1:P and [::1]:P inside the container's
//             namespace for every P of allowLocalOutboundPorts, relayed to the
//             host's 127.0.0.1:P;
//     proxy:  127.0.0.1:3128 and [::1]:3128 inside the container's namespace.
//   host network
//     bridge: none (the container reaches the listed host ports directly and
//             the supervisor denies the rest);
//     proxy:  a free port on the host's 127.0.0.1, which the supervisor then
//             allows (SupervisorPolicy::proxy_port).
// Transparent egress (issue 21), when on: a second proxy listener,
// 127.0.0.1:3129 and [::1]:3129 in the container's namespace (a free host
// loopback port, v4 and v6 alike, on the host network), where the kernel's
// connect4/6 programs send direct TCP connects (transparent_proxy.hpp). It
// serves only once enable_transparent() gives it the kernel's record of
// original destinations; without it the listener is closed.
// Allowlist-only DNS (issue 21), with transparent egress in the container's
// own namespace: the DNS responder on UDP 127.0.0.1:53 and [::1]:53 in the
// container's namespace (hooks/dns/dns_responder.hpp), where the kernel's
// programs send every UDP datagram to port 53.
// The proxy runs when allowedDomains or allowedHosts is non-empty: with no allowed name it
// could only answer 403, and the container is told to use it through
// HTTP_PROXY, so it would then only learn that everything is refused.
//
// Every listener exists when the constructor returns, so the hook reports
// "ready" only once the container can connect. Sockets are close-on-exec and
// owned by this process: if the daemon dies, listeners and relayed
// connections die with it (fail closed).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "hooks/common/decision_log.hpp"
#include "hooks/proxy/proxy_config.hpp"
#include "hooks/supervisor/supervisor_policy.hpp"
#include "runtime/core/unique_fd.hpp"
#include "spec/policy.hpp"

namespace tether::hooks {
class EventLoop;
class LoopbackBridge;
class EgressProxy;
class TransparentProxy;
namespace dns {
class DnsResponder;
}
}  // namespace tether::hooks

namespace tether::hooks {

// The proxy's port inside a container's own network namespace (squid's).
inline constexpr uint16_t kProxyPortInNamespace = 3128;
// The transparent listener's port inside a container's own network namespace.
inline constexpr uint16_t kTransparentPortInNamespace = 3129;
// allowLocalOutboundPorts ranges are expanded into one listener per port (two
// with IPv6); past this many ports the daemon refuses rather than exhaust fds.
inline constexpr size_t kMaxBridgedPorts = 1024;

// The ports to bridge, each once, ascending. Throws tether::Error naming the
// annotation when there are more than kMaxBridgedPorts.
std::vector<uint16_t> bridged_ports(const std::vector<spec::PortRange>& ranges);

// Whether the egress proxy runs for this policy (see above).
bool wants_egress_proxy(const spec::NetworkPolicy& network);

class NetworkServices {
public:
    // Creates the listeners (throws tether::Error naming what failed).
    // container_netns: an fd of /proc/<init>/ns/net; unused on the host network.
    // transparent: make the transparent listener (the policy wants it and
    // the administrator allows it); in an own namespace, the DNS responder
    // too.
    NetworkServices(const spec::NetworkPolicy& network, const hooks::ProxyTimeouts& proxy_timeouts, NetworkMode mode,
                    int container_netns, std::string container_id, std::shared_ptr<DecisionLog> log,
                    bool transparent = false);
    ~NetworkServices();  // stops the loop and joins its thread
    NetworkServices(const NetworkServices&) = delete;
    NetworkServices& operator=(const NetworkServices&) = delete;

    // The port the container reaches the proxy on (0: no proxy).
    uint16_t proxy_port() const { return proxy_port_; }
    // The transparent listener's port (0: none).
    uint16_t transparent_port() const { return transparent_port_; }
    // Serves the transparent listener, taking original destinations from
    // `original_destinations` (the kernel's map). Before start().
    void enable_transparent(UniqueFd original_destinations);
    size_t bridged_port_count() const { return bridged_ports_; }
    // The DNS responder's port in the container's namespace (0: none).
    uint16_t dns_port() const { return dns_port_; }

    // Starts the loop thread. Call after the signal mask is set (the thread
    // inherits it) and before reporting ready. If the loop fails, the whole
    // daemon exits: a half-dead data path must not look alive.
    void start();

private:
    std::unique_ptr<hooks::EventLoop> loop_;
    std::unique_ptr<hooks::LoopbackBridge> bridge_;
    std::unique_ptr<hooks::EgressProxy> proxy_;
    std::unique_ptr<hooks::TransparentProxy> transparent_;
    std::unique_ptr<hooks::dns::DnsResponder> dns_;
    std::vector<UniqueFd> transparent_listeners_;  // until enable_transparent
    std::thread thread_;
    uint16_t proxy_port_ = 0;
    uint16_t transparent_port_ = 0;
    uint16_t dns_port_ = 0;
    size_t bridged_ports_ = 0;
};

}  // namespace tether::hooks
