#include "hooks/supervisor/comm_cache.hpp"

#include <sys/prctl.h>
#include <unistd.h>

#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace tether::hooks {
namespace {

// Renames the calling thread for the test's duration.
struct ThreadName {
    char saved[16] = {};
    explicit ThreadName(const char* name) {
        ::prctl(PR_GET_NAME, saved);
        ::prctl(PR_SET_NAME, name);
    }
    ~ThreadName() { ::prctl(PR_SET_NAME, saved); }
};

TEST(CommCache, ReadsTheCommAndKeepsItNoLongerThanItsMaximumAge) {
    std::string result;
    // A thread of its own, so that renaming it touches nothing else.
    std::thread([&] {
        pid_t tid = ::gettid();
        ThreadName name("first-name");
        CommCache cache;
        auto t0 = CommCache::Clock::now();
        EXPECT_EQ(cache.get(tid, t0), "first-name");
        ::prctl(PR_SET_NAME, "second-name");
        EXPECT_EQ(cache.get(tid, t0 + CommCache::kMaxAge / 2), "first-name");
        EXPECT_EQ(cache.get(tid, t0 + CommCache::kMaxAge), "second-name");
    }).join();
}

TEST(CommCache, AThreadThatIsGoneIsAQuestionMark) {
    pid_t tid = 0;
    std::thread([&] { tid = ::gettid(); }).join();
    CommCache cache;
    EXPECT_EQ(cache.get(tid), "?");
}

TEST(CommCache, ManyThreadsEachGetTheirOwn) {
    CommCache cache;
    for (int i = 0; i < 100; ++i) {
        std::string expected = "worker-" + std::to_string(i);
        std::thread([&] {
            ThreadName name(expected.c_str());
            EXPECT_EQ(cache.get(::gettid()), expected);
        }).join();
    }
}

}  // namespace
}  // namespace tether::hooks
