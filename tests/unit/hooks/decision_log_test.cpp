// DecisionLog's two ways to write: at once, and soon (batched, formatted by
// the flusher thread).
#include "hooks/common/decision_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/scratch_dir.hpp"

namespace tether::hooks {
namespace {

class DecisionLogTest : public ::testing::Test {
protected:
    std::vector<Decision> lines() {
        std::ifstream in(path_);
        return read_decisions(in, 0, false);
    }
    static Decision decision(int port, const char* verdict) {
        Decision d;
        d.container_id = "c1";
        d.pid = 7;
        d.comm = "probe";
        d.syscall = "connect";
        d.family = "inet";
        d.address = "127.0.0.1";
        d.port = static_cast<uint16_t>(port);
        d.verdict = verdict;
        d.rule = "test";
        return d;
    }
    test_support::ScratchDir dir_{"decision-log"};
    const std::string path_ = dir_.path() + "/decisions.jsonl";
};

TEST_F(DecisionLogTest, WriteSoonLinesWaitThenComeOutInOrderWithTheirOwnTime) {
    DecisionLog log(path_);
    auto before = utc_timestamp_now();
    for (int port = 1; port <= 3; ++port) log.write_soon(decision(port, "allow"));
    log.flush();
    auto got = lines();
    ASSERT_EQ(got.size(), 3u);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(got[i].port, i + 1);
        EXPECT_GE(got[i].time, before);  // RFC 3339 UTC strings sort by time
    }
}

TEST_F(DecisionLogTest, AnImmediateLineFollowsTheLinesWaitingBeforeIt) {
    DecisionLog log(path_);
    log.write_soon(decision(1, "allow"));
    log.write_soon(decision(2, "allow"));
    log.write(decision(3, "deny"));
    auto got = lines();  // no flush: write() wrote what waited, then its own
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].port, 1);
    EXPECT_EQ(got[1].port, 2);
    EXPECT_EQ(got[2].port, 3);
    EXPECT_EQ(got[2].verdict, "deny");
}

TEST_F(DecisionLogTest, TheFlusherWritesWaitingLinesWithoutBeingAsked) {
    DecisionLog log(path_);
    log.write_soon(decision(9, "allow"));
    // Bounded wait for the flusher (kFlushDelay is milliseconds).
    for (int i = 0; i < 500 && lines().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto got = lines();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].port, 9);
}

TEST_F(DecisionLogTest, DestroyingTheLogWritesWhatWaits) {
    {
        DecisionLog log(path_);
        for (int port = 1; port <= 1000; ++port) log.write_soon(decision(port, "allow"));
    }
    auto got = lines();
    ASSERT_EQ(got.size(), 1000u);
    for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].port, i + 1);
}

TEST_F(DecisionLogTest, ThreadsWritingAtOnceNeverInterleaveLines) {
    {
        DecisionLog log(path_);
        std::vector<std::thread> writers;
        for (int t = 0; t < 4; ++t)
            writers.emplace_back([&log, t] {
                for (int i = 0; i < 250; ++i) {
                    if (i % 2) log.write_soon(decision(t * 1000 + i, "allow"));
                    else log.write(decision(t * 1000 + i, "deny"));
                }
            });
        for (auto& w : writers) w.join();
    }
    std::ifstream in(path_);
    std::string line;
    size_t count = 0;
    while (std::getline(in, line)) {
        ASSERT_TRUE(decision_from_json(line).has_value()) << line;
        ++count;
    }
    EXPECT_EQ(count, 1000u);
}

// The DNS responder's lines carry the query type, the answer and the error
// (and no byte counts), and read back the same.
TEST(DecisionLogJson, DnsLinesRoundTrip) {
    Decision d;
    d.container_id = "c1";
    d.comm = "tether-netd";
    d.syscall = "dns";
    d.family = "inet";
    d.address = "api.example.com";
    d.port = 53;
    d.verdict = "allow";
    d.rule = "allowedDomains:*.example.com";
    d.protocol = "AAAA";
    d.upstream = "2001:db8::1,2001:db8::2";
    std::string json = decision_to_json(d);
    EXPECT_NE(json.find("\"qtype\":\"AAAA\""), std::string::npos) << json;
    EXPECT_NE(json.find("\"answer\":\"2001:db8::1,2001:db8::2\""), std::string::npos) << json;
    EXPECT_EQ(json.find("bytes_up"), std::string::npos) << json;
    auto back = decision_from_json(json);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->protocol, "AAAA");
    EXPECT_EQ(back->upstream, "2001:db8::1,2001:db8::2");
    EXPECT_EQ(back->rule, d.rule);
}

}  // namespace
}  // namespace tether::hooks
