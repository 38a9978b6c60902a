#include "hooks/proxy/transparent_proxy.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>

namespace tether::hooks {

TransparentProxy::TransparentProxy(EventLoop& loop, EgressProxy& proxy, OriginalLookup lookup)
    : loop_(loop), proxy_(proxy), lookup_(std::move(lookup)) {
    using std::chrono::milliseconds;
    const ProxyTimeouts& timeouts = proxy_.context().timeouts;
    milliseconds tick = std::clamp(std::min(timeouts.request_head, timeouts.idle) / 10, milliseconds(10),
                                   milliseconds(1000));
    tick_ = std::make_unique<PeriodicTimer>(loop, tick, [this] {
        auto now = IdleWatch::Clock::now();
        for (auto& [raw, connection] : connections_) connection->on_tick(now);
    });
}

TransparentProxy::~TransparentProxy() {
    tick_.reset();
    for (auto& listener : listeners_) loop_.unwatch(listener->token);
    connections_.clear();
}

void TransparentProxy::add_listener(UniqueFd fd) {
    auto listener = std::make_unique<Listener>();
    listener->fd = std::move(fd);
    Listener* raw = listener.get();
    raw->token = loop_.watch(raw->fd.get(), [this, raw](uint32_t) { accept_all(*raw); });
    loop_.set_events(raw->token, EPOLLIN);
    listeners_.push_back(std::move(listener));
}

void TransparentProxy::accept_all(Listener& listener) {
    for (;;) {
        sockaddr_storage peer{};
        socklen_t length = sizeof peer;
        int fd = ::accept4(listener.fd.get(), reinterpret_cast<sockaddr*>(&peer), &length,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            return;
        }
        auto original = lookup_(SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&peer), length));
        std::weak_ptr<bool> alive = alive_;
        auto erase_later = [this, alive](TransparentConnection& done) {
            loop_.post([this, alive, raw = &done] {
                if (!alive.expired()) connections_.erase(raw);
            });
        };
        auto connection = std::make_unique<TransparentConnection>(
            proxy_.context(), UniqueFd(fd), std::move(original), erase_later,
            [this, erase_later](TransparentConnection& handed_off, ProxyTunnel tunnel) {
                proxy_.adopt_tunnel(std::move(tunnel));
                erase_later(handed_off);
            });
        TransparentConnection* raw = connection.get();
        connections_.emplace(raw, std::move(connection));
        raw->start();
    }
}

}  // namespace tether::hooks
