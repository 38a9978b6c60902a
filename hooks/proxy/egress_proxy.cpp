#include "hooks/proxy/egress_proxy.hpp"

#include <sys/socket.h>

#include "hooks/net/socket_util.hpp"
#include "runtime/core/error.hpp"

namespace tether::hooks {

EgressProxy::EgressProxy(EventLoop& loop, ProxyConfig config)
    : loop_(loop), listeners_(loop, [this](int listener_fd) { accept_all(listener_fd); }) {
    ResolveFunction resolve = config.resolve ? config.resolve : resolve_with_getaddrinfo;
    DialFunction dial = config.dial ? config.dial : start_connect;
    context_ = std::unique_ptr<ProxyContext>(new ProxyContext{loop, DestinationPolicy(config),
                                                              ResolverPool(loop, resolve, config.resolver_threads),
                                                              std::move(dial), std::move(config.on_decision),
                                                              config.timeouts});
    timeout_tick_ = std::make_unique<PeriodicTimer>(loop, config.timeouts.tick(), [this] { check_timeouts(); });
}

// Finished connections and tunnels wait for their posted erase: they are
// skipped, and nothing here erases, so the maps are stable while we walk them.
void EgressProxy::check_timeouts() {
    if (connections_.empty() && tunnels_.empty()) {
        timeout_tick_->pause();  // nothing to time out: an idle proxy sleeps (accept resumes it)
        return;
    }
    auto now = IdleWatch::Clock::now();
    for (auto& [raw, connection] : connections_) connection->on_tick(now);
    for (auto& [raw, tunnel] : tunnels_) {
        if (tunnel.timed_out || raw->finished()) continue;
        if (tunnel.idle.idle_for(raw->bytes_relayed(), now) >= context_->timeouts.idle) {
            tunnel.timed_out = true;
            raw->close();  // runs the done callback below, which logs it
        }
    }
}

EgressProxy::~EgressProxy() {
    timeout_tick_.reset();
    listeners_.clear();
    // Connections and tunnels unwatch themselves; the resolver threads stop with the context.
    tunnels_.clear();
    connections_.clear();
}

void EgressProxy::add_listener(UniqueFd fd) { listeners_.add(std::move(fd)); }

void EgressProxy::accept_all(int listener_fd) {
    for (;;) {
        int fd = accept_next(listener_fd);
        if (fd < 0) return;
        std::weak_ptr<bool> alive = alive_;
        auto connection = std::make_unique<ProxyConnection>(
            *context_, UniqueFd(fd),
            [this, alive](ProxyConnection& finished) {
                loop_.post([this, alive, raw = &finished] {
                    if (!alive.expired()) connections_.erase(raw);
                });
            },
            [this, alive](ProxyConnection& handed_off, ProxyTunnel tunnel) {
                start_tunnel(std::move(tunnel));
                loop_.post([this, alive, raw = &handed_off] {
                    if (!alive.expired()) connections_.erase(raw);
                });
            });
        ProxyConnection* raw = connection.get();
        connections_.emplace(raw, std::move(connection));
        timeout_tick_->resume();
        raw->start();
    }
}

namespace {

// A tunnel's sockets as the bridge tunes its own (socket_util.hpp): the
// client's side is always on loopback (the proxy listens there), the
// upstream's only when the dialled address was (allowPrivateUpstreams).
// BBR's per-segment pacing there cost the relay half of its throughput
// (issue 23: CONNECT 42-58% of direct before).
void tune_tunnel_sockets(int client, int upstream) {
    use_unpaced_congestion_control(client);
    try {
        if (local_address(upstream).is_loopback()) use_unpaced_congestion_control(upstream);
    } catch (const Error&) {
        // getsockname failed: leave the default.
    }
}

}  // namespace

void EgressProxy::start_tunnel(ProxyTunnel tunnel) {
    tune_tunnel_sockets(tunnel.client.get(), tunnel.upstream.get());
    std::weak_ptr<bool> alive = alive_;
    std::unique_ptr<SpliceRelay> relay;
    try {
        relay = std::make_unique<SpliceRelay>(
        loop_, std::move(tunnel.client), std::move(tunnel.upstream),
        [this, alive, decision = std::move(tunnel.decision), started = tunnel.started](SpliceRelay& finished,
                                                                                        const RelayStats& stats) mutable {
            decision.bytes_up = stats.bytes_client_to_upstream;
            decision.bytes_down = stats.bytes_upstream_to_client;
            decision.duration_ms =
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
            if (stats.reset) decision.error = "reset";
            if (auto it = tunnels_.find(&finished); it != tunnels_.end() && it->second.timed_out)
                decision.error = "idle timeout";
            if (context_->on_decision) context_->on_decision(decision);
            loop_.post([this, alive, raw = &finished] {
                if (!alive.expired()) tunnels_.erase(raw);
            });
        },
        std::move(tunnel.first_bytes_to_upstream));
    } catch (const Error& e) {
        // Out of pipes or fds: this tunnel fails (its sockets close with it), the proxy goes on.
        tunnel.decision.error = e.what();
        if (context_->on_decision) context_->on_decision(tunnel.decision);
        return;
    }
    SpliceRelay* raw = relay.get();
    tunnels_.emplace(raw, Tunnel{std::move(relay), IdleWatch(), false});
    timeout_tick_->resume();  // a transparent connection's tunnel may be the only thing left
    raw->start();
}

}  // namespace tether::hooks
