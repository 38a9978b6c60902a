#include "hooks/net/listener_set.hpp"

#include <sys/epoll.h>

#include <cerrno>

namespace tether::hooks {

void ListenerSet::add(UniqueFd fd) {
    auto listener = std::make_unique<Listener>();
    listener->fd = std::move(fd);
    int raw_fd = listener->fd.get();
    listener->token = loop_.watch(raw_fd, [this, raw_fd](uint32_t) { on_readable_(raw_fd); });
    loop_.set_events(listener->token, EPOLLIN);
    listeners_.push_back(std::move(listener));
}

void ListenerSet::clear() {
    for (auto& listener : listeners_) loop_.unwatch(listener->token);
    listeners_.clear();
}

int accept_next(int listener_fd, sockaddr* peer, socklen_t* length) {
    const socklen_t capacity = length ? *length : 0;
    for (;;) {
        if (length) *length = capacity;  // accept4 overwrote it on a failed try
        int fd = ::accept4(listener_fd, peer, length, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0 || (errno != EINTR && errno != ECONNABORTED)) return fd;
    }
}

}  // namespace tether::hooks
