#include "hooks/bridge/loopback_bridge.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>

#include "runtime/core/error.hpp"

namespace tether::hooks {

LoopbackBridge::LoopbackBridge(EventLoop& loop, ReportCallback on_report)
    : loop_(loop), on_report_(std::move(on_report)) {}

LoopbackBridge::~LoopbackBridge() {
    for (auto& listener : listeners_) loop_.unwatch(listener->token);
    for (auto& [ptr, pending] : pending_) loop_.unwatch(pending->token);
}

void LoopbackBridge::add_listener(UniqueFd listener) {
    uint16_t port = local_port(listener.get());
    add_listener(std::move(listener), loopback_v4(port));
}

void LoopbackBridge::add_listener(UniqueFd fd, const SocketAddress& upstream) {
    auto listener = std::make_unique<Listener>();
    listener->fd = std::move(fd);
    listener->upstream = upstream;
    SocketAddress local = local_address(listener->fd.get());
    listener->port = local.port();
    listener->loopback_to_loopback = local.is_loopback() && upstream.is_loopback();
    Listener* raw = listener.get();
    raw->token = loop_.watch(raw->fd.get(), [this, raw](uint32_t) { accept_all(*raw); });
    loop_.set_events(raw->token, EPOLLIN);
    listeners_.push_back(std::move(listener));
}

void LoopbackBridge::accept_all(Listener& listener) {
    for (;;) {
        int fd = accept4(listener.fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                // The listener stays readable; without pausing, level-triggered
                // epoll would spin until an fd is freed.
                listener.paused = true;
                loop_.set_events(listener.token, 0);
            }
            return;  // EAGAIN: drained
        }
        dial(UniqueFd(fd), listener);
    }
}

void LoopbackBridge::dial(UniqueFd client, const Listener& listener) {
    uint16_t listen_port = listener.port;
    ConnectAttempt attempt = start_connect(listener.upstream);
    if (attempt.error) {
        reject(std::move(client), listen_port, listener.upstream, attempt.error);
        return;
    }
    // The relay forwards segments as they come: Nagle on its side would delay a
    // client's small writes that the client itself sent without delay.
    set_nodelay(client.get());
    set_nodelay(attempt.fd.get());
    if (listener.loopback_to_loopback) {
        use_unpaced_congestion_control(client.get());
        use_unpaced_congestion_control(attempt.fd.get());
    }
    auto pending = std::make_unique<PendingConnect>();
    pending->client = std::move(client);
    pending->upstream = std::move(attempt.fd);
    pending->listen_port = listen_port;
    pending->upstream_address = listener.upstream;
    PendingConnect* raw = pending.get();
    raw->token = loop_.watch(raw->upstream.get(), [this, raw](uint32_t) { on_connected(raw); });
    loop_.set_events(raw->token, EPOLLOUT);
    pending_.emplace(raw, std::move(pending));
}

void LoopbackBridge::on_connected(PendingConnect* raw) {
    auto node = pending_.extract(raw);
    if (node.empty()) return;
    std::unique_ptr<PendingConnect> pending = std::move(node.mapped());
    loop_.unwatch(pending->token);
    int error = take_socket_error(pending->upstream.get());
    if (error) {
        reject(std::move(pending->client), pending->listen_port, pending->upstream_address, error);
        return;
    }
    start_relay(std::move(pending->client), std::move(pending->upstream), pending->listen_port,
                pending->upstream_address);
}

void LoopbackBridge::start_relay(UniqueFd client, UniqueFd upstream, uint16_t listen_port,
                                 const SocketAddress& upstream_address) {
    std::weak_ptr<bool> alive = alive_;
    std::unique_ptr<SpliceRelay> relay;
    try {
        relay = std::make_unique<SpliceRelay>(
        loop_, std::move(client), std::move(upstream),
        [this, alive, listen_port, upstream_address](SpliceRelay& finished, const RelayStats& stats) {
            if (on_report_) on_report_({listen_port, upstream_address.to_string(), 0, stats});
            // Destroy later: we are inside the relay's own handler.
            loop_.post([this, alive, relay = &finished] {
                if (alive.expired()) return;
                relays_.erase(relay);
                resume_listeners();
            });
        });
    } catch (const Error& e) {
        // Out of pipes or fds: refuse this one connection, keep serving the others.
        reject(std::move(client), listen_port, upstream_address, e.error_number() ? e.error_number() : EMFILE);
        return;
    }
    SpliceRelay* raw = relay.get();
    relays_.emplace(raw, std::move(relay));
    raw->start();
}

void LoopbackBridge::reject(UniqueFd client, uint16_t listen_port, const SocketAddress& upstream_address,
                            int error) {
    // A real server that is not there refuses; the nearest an accepted socket can
    // get is an immediate RST, so the client fails fast instead of waiting.
    // Report first: once the RST is out, the client may already act on it.
    if (on_report_) on_report_({listen_port, upstream_address.to_string(), error, {}});
    set_reset_on_close(client.get());
    client.reset();
    resume_listeners();
}

void LoopbackBridge::resume_listeners() {
    for (auto& listener : listeners_) {
        if (!listener->paused) continue;
        listener->paused = false;
        loop_.set_events(listener->token, EPOLLIN);
    }
}

}  // namespace tether::hooks
