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

TEST(PeriodicTimer, PausedItDoesNotTickResumedItTicksAgain) {
    testing::LoopThread thread;
    std::atomic<int> ticks{0};
    PeriodicTimer timer(thread.loop(), 10ms, [&] { ++ticks; });
    thread.start();
    std::this_thread::sleep_for(100ms);
    EXPECT_GE(ticks.load(), 3);

    // pause/resume belong to the loop thread.
    thread.call([&] { timer.pause(); });
    int paused_at = ticks.load();
    std::this_thread::sleep_for(150ms);
    EXPECT_EQ(ticks.load(), paused_at);

    thread.call([&] { timer.resume(); });
    std::this_thread::sleep_for(100ms);
    EXPECT_GE(ticks.load(), paused_at + 3);
    thread.stop();
}

}  // namespace
}  // namespace tether::hooks
