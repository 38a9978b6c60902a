#include "hooks/net/periodic_timer.hpp"

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include "runtime/core/error.hpp"

namespace tether::hooks {

PeriodicTimer::PeriodicTimer(EventLoop& loop, std::chrono::milliseconds interval, std::function<void()> on_tick)
    : loop_(loop),
      timer_(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)),
      on_tick_(std::move(on_tick)),
      interval_(std::max<std::chrono::nanoseconds>(interval, std::chrono::nanoseconds(1))) {
    if (!timer_) throw_errno("timerfd_create");
    arm(true);
    token_ = loop_.watch(timer_.get(), [this](uint32_t) {
        // Ticks missed while the loop was busy collapse into one: the
        // owner compares against the clock, not a count of ticks.
        uint64_t expirations;
        if (read(timer_.get(), &expirations, sizeof expirations) != sizeof expirations) return;
        on_tick_();
    });
    loop_.set_events(token_, EPOLLIN);
}

PeriodicTimer::~PeriodicTimer() { loop_.unwatch(token_); }

void PeriodicTimer::arm(bool on) {
    if (on == running_) return;
    itimerspec spec{};  // all zero: disarmed
    if (on) {
        auto ns = interval_.count();
        spec.it_interval.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
        spec.it_interval.tv_nsec = static_cast<long>(ns % 1'000'000'000);
        spec.it_value = spec.it_interval;
    }
    if (timerfd_settime(timer_.get(), 0, &spec, nullptr) != 0) throw_errno("timerfd_settime");
    running_ = on;
}

}  // namespace tether::hooks
