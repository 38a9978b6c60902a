// How long a progress counter (bytes moved, I/O rounds) has stood still, seen
// from periodic ticks: the hot path only bumps a counter, and the clock is
// read once per tick for all connections. Precision is one tick.
#pragma once

#include <chrono>
#include <cstdint>

namespace tether::hooks {

class IdleWatch {
public:
    using Clock = std::chrono::steady_clock;

    explicit IdleWatch(Clock::time_point now = Clock::now()) : since_(now) {}

    // Time since `progress` last changed, as of `now`.
    Clock::duration idle_for(uint64_t progress, Clock::time_point now) {
        if (progress != last_) {
            last_ = progress;
            since_ = now;
        }
        return now - since_;
    }

private:
    uint64_t last_ = 0;
    Clock::time_point since_;
};

}  // namespace tether::hooks
