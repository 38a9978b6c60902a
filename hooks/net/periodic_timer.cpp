#include "hooks/net/periodic_timer.hpp"

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cstdint>

#include "runtime/core/error.hpp"

namespace tether::hooks {

PeriodicTimer::PeriodicTimer(EventLoop& loop, std::chrono::milliseconds interval, std::function<void()> on_tick)
    : loop_(loop), timer_(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)), on_tick_(std::move(on_tick)) {
    if (!timer_) throw_errno("timerfd_create");
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(interval).count();
    if (ns <= 0) ns = 1;
    itimerspec spec{};
    spec.it_interval.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    spec.it_interval.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    spec.it_value = spec.it_interval;
    if (timerfd_settime(timer_.get(), 0, &spec, nullptr) != 0) throw_errno("timerfd_settime");
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

}  // namespace tether::hooks
