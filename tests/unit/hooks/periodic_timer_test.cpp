// PeriodicTimer on a live EventLoop: it ticks, a paused timer does not wake
// the loop at all, and a resumed one ticks again.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "bridge_test_support.hpp"
#include "hooks/net/periodic_timer.hpp"

namespace tether::hooks {
namespace {

using namespace std::chrono_literals;

// Waits (up to 5 s, for a loaded machine) until ticks reaches at_least.
bool wait_for_ticks(const std::atomic<int>& ticks, int at_least) {
    for (int i = 0; i < 500 && ticks.load() < at_least; ++i) std::this_thread::sleep_for(10ms);
    return ticks.load() >= at_least;
}

TEST(PeriodicTimer, PausedItDoesNotTickResumedItTicksAgain) {
    testing::LoopThread thread;
    std::atomic<int> ticks{0};
    PeriodicTimer timer(thread.loop(), 10ms, [&] { ++ticks; });
    thread.start();
    EXPECT_TRUE(wait_for_ticks(ticks, 3));

    // pause/resume belong to the loop thread.
    thread.call([&] { timer.pause(); });
    int paused_at = ticks.load();
    std::this_thread::sleep_for(150ms);
    EXPECT_EQ(ticks.load(), paused_at);

    thread.call([&] { timer.resume(); });
    EXPECT_TRUE(wait_for_ticks(ticks, paused_at + 3));
    thread.stop();
}

}  // namespace
}  // namespace tether::hooks
