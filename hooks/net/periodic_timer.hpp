// A callback every `interval` on an EventLoop, from a timerfd. The loop has no
// timers of its own; owners that need deadlines (the proxy's timeouts) check
// them on each tick rather than arming one timer per connection, which would
// cost an fd and a timerfd_settime on every byte that moves.
//
// An owner with nothing to watch pauses the timer, so an idle daemon is not
// woken at all (issue 23: the proxy's tick woke every idle sandbox's
// tether-netd once a second); the first new connection resumes it.
//
// Threading: construct, destroy, pause and resume on the loop thread or while
// the loop is not running.
#pragma once

#include <chrono>
#include <functional>

#include "hooks/net/event_loop.hpp"
#include "runtime/core/unique_fd.hpp"

namespace tether::hooks {

class PeriodicTimer {
public:
    // Throws tether::Error if the timerfd cannot be made.
    PeriodicTimer(EventLoop& loop, std::chrono::milliseconds interval, std::function<void()> on_tick);
    ~PeriodicTimer();
    PeriodicTimer(const PeriodicTimer&) = delete;
    PeriodicTimer& operator=(const PeriodicTimer&) = delete;

    // Both are idempotent; a resumed timer's next tick is one interval away.
    void pause() { arm(false); }
    void resume() { arm(true); }
    bool running() const { return running_; }

private:
    void arm(bool on);

    EventLoop& loop_;
    UniqueFd timer_;
    EventLoop::Token token_ = 0;
    std::function<void()> on_tick_;
    std::chrono::nanoseconds interval_;
    bool running_ = false;
};

}  // namespace tether::hooks
