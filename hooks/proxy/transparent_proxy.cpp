#include "hooks/proxy/transparent_proxy.hpp"

#include <sys/socket.h>

namespace tether::hooks {

TransparentProxy::TransparentProxy(EventLoop& loop, EgressProxy& proxy, OriginalLookup lookup)
    : loop_(loop),
      proxy_(proxy),
      lookup_(std::move(lookup)),
      listeners_(loop, [this](int listener_fd) { accept_all(listener_fd); }) {
    tick_ = std::make_unique<PeriodicTimer>(loop, proxy_.context().timeouts.tick(), [this] {
        if (connections_.empty()) {
            tick_->pause();  // idle: no wake-ups until the next accept
            return;
        }
        auto now = IdleWatch::Clock::now();
        for (auto& [raw, connection] : connections_) connection->on_tick(now);
    });
}

TransparentProxy::~TransparentProxy() {
    tick_.reset();
    listeners_.clear();
    connections_.clear();
}

void TransparentProxy::add_listener(UniqueFd fd) { listeners_.add(std::move(fd)); }

void TransparentProxy::accept_all(int listener_fd) {
    for (;;) {
        sockaddr_storage peer{};
        socklen_t length = sizeof peer;
        int fd = accept_next(listener_fd, reinterpret_cast<sockaddr*>(&peer), &length);
        if (fd < 0) return;
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
        tick_->resume();
        raw->start();
    }
}

}  // namespace tether::hooks
