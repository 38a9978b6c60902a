// One epoll loop that serves every bridge and the proxy of a container: no thread
// per connection. Handlers are registered by token, not by fd, so an event that
// was queued for a connection closed earlier in the same epoll_wait batch can
// never reach a new connection that happens to reuse the fd number.
//
// Threading: watch/set_events/unwatch are for the loop thread (or before run());
// post() and stop() may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "runtime/core/unique_fd.hpp"

namespace tether::hooks {

class EventLoop {
public:
    using Token = uint64_t;
    using Handler = std::function<void(uint32_t events)>;

    EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // Registers a handler for fd with no interest yet (the fd is not in epoll
    // until set_events asks for something). The fd stays owned by the caller.
    Token watch(int fd, Handler handler);
    // Sets the epoll interest (EPOLLIN/EPOLLOUT, level-triggered). An empty
    // interest removes the fd from epoll, so an unmaskable EPOLLHUP cannot spin
    // the loop while the owner waits on another fd (backpressure).
    void set_events(Token token, uint32_t events);
    // Forgets the handler; safe from inside that very handler.
    void unwatch(Token token);

    // Runs fn on the loop thread after the current batch of events.
    void post(std::function<void()> fn);

    // Serves events until stop(). Exceptions from handlers propagate.
    void run();
    void stop();

private:
    struct Entry {
        int fd;
        uint32_t events;
        std::shared_ptr<Handler> handler;  // shared: a running handler may unwatch itself
    };
    void drain_wakeups();

    UniqueFd epoll_;
    UniqueFd wakeup_;  // eventfd: stop() and post() from other threads
    Token next_token_ = 1;
    std::unordered_map<Token, Entry> entries_;

    std::mutex posted_mutex_;
    std::vector<std::function<void()>> posted_;
    bool stop_requested_ = false;  // guarded by posted_mutex_
};

}  // namespace tether::hooks
