// The value syntaxes of ps, update and events, as runc accepts them.
#include <gtest/gtest.h>

#include "runtime/core/error.hpp"
#include "runtime/lifecycle/cgroup_verbs.hpp"
#include "tests/unit/error_message.hpp"

namespace tether {
namespace {

using namespace std::chrono_literals;

TEST(MemorySize, BytesAndBinarySuffixesLikeGoUnits) {
    EXPECT_EQ(parse_memory_size("1024"), 1024);
    EXPECT_EQ(parse_memory_size("512k"), 512 * 1024);
    EXPECT_EQ(parse_memory_size("64m"), 64 * 1024 * 1024);
    EXPECT_EQ(parse_memory_size("64M"), 64 * 1024 * 1024);
    EXPECT_EQ(parse_memory_size("2g"), 2LL * 1024 * 1024 * 1024);
    EXPECT_EQ(parse_memory_size("2GiB"), 2LL * 1024 * 1024 * 1024);
    EXPECT_EQ(parse_memory_size("1.5k"), 1536);
    EXPECT_EQ(parse_memory_size("10 mb"), 10 * 1024 * 1024);
    EXPECT_EQ(parse_memory_size("7b"), 7);
}

TEST(MemorySize, MinusOneIsUnlimitedAndOtherNegativesAreRefused) {
    EXPECT_EQ(parse_memory_size("-1"), -1);
    EXPECT_THROW(parse_memory_size("-2"), Error);
    EXPECT_THROW(parse_memory_size(""), Error);
    EXPECT_THROW(parse_memory_size("m"), Error);
    EXPECT_THROW(parse_memory_size("12x"), Error);
    EXPECT_THROW(parse_memory_size("12mm"), Error);
    EXPECT_THROW(parse_memory_size("99999999p"), Error);
}

TEST(Duration, GoSyntax) {
    EXPECT_EQ(parse_duration("5s"), 5s);
    EXPECT_EQ(parse_duration("250ms"), 250ms);
    EXPECT_EQ(parse_duration("1m30s"), 90s);
    EXPECT_EQ(parse_duration("1.5s"), 1500ms);
    EXPECT_EQ(parse_duration("100us"), 100us);
    EXPECT_EQ(parse_duration("2h"), 7200s);
    EXPECT_EQ(parse_duration("0"), 0ns);
    EXPECT_THROW(parse_duration("5"), Error);
    EXPECT_THROW(parse_duration("5x"), Error);
    EXPECT_THROW(parse_duration(""), Error);
    EXPECT_THROW(parse_duration("s"), Error);
}

TEST(UpdateFlags, OnlyGivenFlagsBecomeResources) {
    EXPECT_FALSE(resources_from_flags({}).memory);
    EXPECT_FALSE(resources_from_flags({}).cpu);
    EXPECT_FALSE(resources_from_flags({}).pids);
    EXPECT_FALSE(resources_from_flags({}).block_io);

    UpdateFlags flags;
    flags.memory = "64m";
    flags.memory_swap = "-1";
    flags.cpu_quota = "-1";
    flags.cpu_period = "100000";
    flags.cpu_share = "512";
    flags.cpuset_cpus = "0";
    flags.pids_limit = "42";
    flags.blkio_weight = "300";
    spec::Resources r = resources_from_flags(flags);
    ASSERT_TRUE(r.memory);
    EXPECT_EQ(r.memory->limit, 64 * 1024 * 1024);
    EXPECT_EQ(r.memory->swap, -1);
    EXPECT_FALSE(r.memory->reservation);
    ASSERT_TRUE(r.cpu);
    EXPECT_EQ(r.cpu->quota, -1);
    EXPECT_EQ(r.cpu->period, 100000u);
    EXPECT_EQ(r.cpu->shares, 512u);
    EXPECT_EQ(r.cpu->cpus, "0");
    EXPECT_TRUE(r.cpu->mems.empty());
    ASSERT_TRUE(r.pids);
    EXPECT_EQ(r.pids->limit, 42);
    ASSERT_TRUE(r.block_io);
    EXPECT_EQ(r.block_io->weight, 300);
}

TEST(UpdateFlags, BadValuesNameTheFlag) {
    auto message_of = [](const UpdateFlags& flags) {
        return test_support::error_message<Error>([&] { resources_from_flags(flags); });
    };
    UpdateFlags shares;
    shares.cpu_share = "-5";
    EXPECT_NE(message_of(shares).find("--cpu-share"), std::string::npos);
    UpdateFlags memory;
    memory.memory = "lots";
    EXPECT_NE(message_of(memory).find("--memory"), std::string::npos);
    UpdateFlags weight;
    weight.blkio_weight = "70000";
    EXPECT_NE(message_of(weight).find("--blkio-weight"), std::string::npos);
    UpdateFlags pids;
    pids.pids_limit = "12abc";
    EXPECT_NE(message_of(pids).find("--pids-limit"), std::string::npos);
}

TEST(PsOutput, PidsAsAJsonArray) {
    EXPECT_EQ(pids_to_json({}), "[]");
    EXPECT_EQ(pids_to_json({6907}), "[6907]");
    EXPECT_EQ(pids_to_json({1, 22, 333}), "[1,22,333]");
}

TEST(PsOutput, TableKeepsTheHeaderAndTheContainersLines) {
    const std::string ps_ef =
        "UID          PID    PPID  C STIME TTY          TIME CMD\n"
        "root           1       0  0 10:00 ?        00:00:01 /sbin/init\n"
        "root         200       1  0 10:01 ?        00:00:00 sh -c sleep 3600\n"
        "root         201     200  0 10:01 ?        00:00:00 sleep 3600\n"
        "root        2000       1  0 10:01 ?        00:00:00 200 looks like a pid\n"
        "short\n";
    EXPECT_EQ(filter_ps_table(ps_ef, {200, 201}),
              "UID          PID    PPID  C STIME TTY          TIME CMD\n"
              "root         200       1  0 10:01 ?        00:00:00 sh -c sleep 3600\n"
              "root         201     200  0 10:01 ?        00:00:00 sleep 3600\n");
    // Another column order (ps -o pid,comm).
    EXPECT_EQ(filter_ps_table("    PID COMMAND\n      7 a\n      8 b\n", {8}), "    PID COMMAND\n      8 b\n");
}

TEST(PsOutput, HeaderWithoutPidIsAnError) {
    EXPECT_THROW(filter_ps_table("USER COMMAND\nroot x\n", {1}), Error);
}

}  // namespace
}  // namespace tether
