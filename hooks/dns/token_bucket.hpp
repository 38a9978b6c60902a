// The DNS responder's rate limit: a token bucket on an explicit clock, so
// the unit test needs no sleeps.
#pragma once

#include <algorithm>
#include <chrono>

namespace tether::hooks::dns {

class TokenBucket {
public:
    using Clock = std::chrono::steady_clock;
    TokenBucket(double per_second, double burst) : rate_(per_second), burst_(burst), tokens_(burst) {}

    // Takes one token if there is one.
    bool take(Clock::time_point now) {
        if (started_) {
            std::chrono::duration<double> elapsed = now - last_;
            tokens_ = std::min(burst_, tokens_ + std::max(0.0, elapsed.count()) * rate_);
        }
        started_ = true;
        last_ = now;
        if (tokens_ < 1) return false;
        tokens_ -= 1;
        return true;
    }

private:
    double rate_;
    double burst_;
    double tokens_;
    bool started_ = false;
    Clock::time_point last_{};
};

}  // namespace tether::hooks::dns
