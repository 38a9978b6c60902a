// The domain-allowlist egress proxy: HTTP CONNECT, absolute-form plain HTTP
// with keep-alive, and SOCKS5 with names, on listening sockets the daemon
// gives it (127.0.0.1:3128 and [::1]:3128 inside the container's namespace, or
// a free host loopback port with the host network). See proxy_connection.hpp
// for the order of checks; every request ends as one ProxyDecision.
//
// Timeouts (ProxyConfig::timeouts): one periodic tick checks every connection
// and tunnel; nothing per byte but a counter. The tick is a tenth of the
// shorter timeout, between 10 ms and 1 s, so a deadline is met within that.
//
// Threading: construct, add_listener and destroy on the loop thread or while
// the loop is not running. The resolver threads never touch connections.
#pragma once

#include <memory>
#include <unordered_map>
#include <vector>

#include "hooks/net/event_loop.hpp"
#include "hooks/net/listener_set.hpp"
#include "hooks/net/periodic_timer.hpp"
#include "hooks/net/splice_relay.hpp"
#include "hooks/proxy/proxy_config.hpp"
#include "hooks/proxy/idle_watch.hpp"
#include "hooks/proxy/proxy_connection.hpp"
#include "runtime/core/unique_fd.hpp"

namespace tether::hooks {

class EgressProxy {
public:
    // Throws tether::Error for an invalid domain pattern, IP literal or CIDR.
    EgressProxy(EventLoop& loop, ProxyConfig config);
    ~EgressProxy();
    EgressProxy(const EgressProxy&) = delete;
    EgressProxy& operator=(const EgressProxy&) = delete;

    // Serves a non-blocking listening socket.
    void add_listener(UniqueFd listener);

    // Transparent egress (transparent_proxy.hpp) shares the rules, the
    // resolver and the decision callback, and hands its tunnels to the same
    // relay.
    ProxyContext& context() { return *context_; }
    void adopt_tunnel(ProxyTunnel tunnel) { start_tunnel(std::move(tunnel)); }

    // Client connections being served, tunnels included (loop thread only).
    size_t active_connections() const { return connections_.size() + tunnels_.size(); }

private:
    struct Tunnel {
        std::unique_ptr<SpliceRelay> relay;
        IdleWatch idle;
        bool timed_out = false;  // closed by the idle timeout (its decision says so)
    };
    void accept_all(int listener_fd);
    void start_tunnel(ProxyTunnel tunnel);
    void check_timeouts();

    EventLoop& loop_;
    std::unique_ptr<ProxyContext> context_;
    ListenerSet listeners_;
    std::unordered_map<ProxyConnection*, std::unique_ptr<ProxyConnection>> connections_;
    std::unordered_map<SpliceRelay*, Tunnel> tunnels_;
    std::unique_ptr<PeriodicTimer> timeout_tick_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards posted cleanups
};

}  // namespace tether::hooks
