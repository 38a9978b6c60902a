#include "hooks/net/event_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <array>
#include <utility>

#include "runtime/core/error.hpp"

namespace tether::hooks {

namespace {
constexpr uint64_t kWakeupToken = 0;  // tokens from watch() start at 1
}

EventLoop::EventLoop()
    : epoll_(epoll_create1(EPOLL_CLOEXEC)), wakeup_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (!epoll_) throw_errno("epoll_create1");
    if (!wakeup_) throw_errno("eventfd");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kWakeupToken;
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wakeup_.get(), &ev) != 0) throw_errno("epoll_ctl ADD eventfd");
}

EventLoop::Token EventLoop::watch(int fd, Handler handler) {
    Token token = next_token_++;
    entries_.emplace(token, Entry{fd, 0, std::make_shared<Handler>(std::move(handler))});
    return token;
}

void EventLoop::set_events(Token token, uint32_t events) {
    auto it = entries_.find(token);
    if (it == entries_.end()) return;
    Entry& entry = it->second;
    if (entry.events == events) return;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = token;
    int op = entry.events == 0 ? EPOLL_CTL_ADD : (events == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD);
    if (epoll_ctl(epoll_.get(), op, entry.fd, &ev) != 0)
        throw_errno("epoll_ctl fd " + std::to_string(entry.fd));
    entry.events = events;
}

void EventLoop::unwatch(Token token) {
    auto it = entries_.find(token);
    if (it == entries_.end()) return;
    if (it->second.events != 0) epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, it->second.fd, nullptr);
    entries_.erase(it);
}

void EventLoop::post(std::function<void()> fn) {
    {
        std::lock_guard lock(posted_mutex_);
        posted_.push_back(std::move(fn));
    }
    uint64_t one = 1;
    (void)!write(wakeup_.get(), &one, sizeof one);
}

void EventLoop::stop() {
    {
        std::lock_guard lock(posted_mutex_);
        stop_requested_ = true;
    }
    uint64_t one = 1;
    (void)!write(wakeup_.get(), &one, sizeof one);
}

void EventLoop::drain_wakeups() {
    uint64_t count;
    (void)!read(wakeup_.get(), &count, sizeof count);
}

void EventLoop::run() {
    std::array<epoll_event, 128> events;
    for (;;) {
        int n = epoll_wait(epoll_.get(), events.data(), events.size(), -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_errno("epoll_wait");
        }
        for (int i = 0; i < n; ++i) {
            Token token = events[i].data.u64;
            if (token == kWakeupToken) {
                drain_wakeups();
                continue;
            }
            auto it = entries_.find(token);
            if (it == entries_.end()) continue;  // unwatched earlier in this batch
            // Hold a reference: the handler may unwatch (and so release) itself.
            std::shared_ptr<Handler> handler = it->second.handler;
            (*handler)(events[i].events);
        }
        std::vector<std::function<void()>> posted;
        bool stopping;
        {
            std::lock_guard lock(posted_mutex_);
            posted.swap(posted_);
            stopping = std::exchange(stop_requested_, false);
        }
        for (auto& fn : posted) fn();
        if (stopping) return;
    }
}

}  // namespace tether::hooks
