// The `events --stats` line in runc's shape.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "spec/stats.hpp"

namespace tether::spec {
namespace {

TEST(StatsJson, RuncShapeWithOmitEmpty) {
    CgroupStats stats;
    stats.cpu.usage.total = 123;
    stats.cpu.usage.percpu = {100, 23};
    stats.memory.usage.usage = 4096;
    stats.memory.usage.limit = 8192;
    stats.memory.raw["cache"] = 7;
    stats.pids.current = 3;
    stats.hugetlb["2MB"] = HugetlbStats{0, 0, 0};
    const auto json = nlohmann::json::parse(stats_event_to_json("c1", stats));
    EXPECT_EQ(json["type"], "stats");
    EXPECT_EQ(json["id"], "c1");
    const auto& data = json["data"];
    EXPECT_EQ(data["cpu"]["usage"]["total"], 123);
    EXPECT_EQ(data["cpu"]["usage"]["percpu"], nlohmann::json::array({100, 23}));
    EXPECT_EQ(data["cpu"]["usage"]["kernel"], 0) << "kernel/user have no omitempty";
    EXPECT_FALSE(data["cpu"]["usage"].contains("percpu_kernel"));
    EXPECT_TRUE(data["cpu"]["throttling"].is_object());
    EXPECT_EQ(data["memory"]["usage"]["usage"], 4096);
    EXPECT_EQ(data["memory"]["usage"]["limit"], 8192);
    EXPECT_EQ(data["memory"]["usage"]["failcnt"], 0);
    EXPECT_FALSE(data["memory"]["usage"].contains("max"));
    EXPECT_EQ(data["memory"]["swap"]["limit"], 0);
    EXPECT_EQ(data["memory"]["raw"]["cache"], 7);
    EXPECT_FALSE(data["memory"].contains("cache"));
    EXPECT_EQ(data["pids"]["current"], 3);
    EXPECT_FALSE(data["pids"].contains("limit"));
    EXPECT_EQ(data["hugetlb"]["2MB"]["failcnt"], 0);
    EXPECT_TRUE(data["blkio"].is_object());
    EXPECT_TRUE(data["network_interfaces"].is_null());
}

TEST(StatsJson, OomEvent) {
    EXPECT_EQ(oom_event_to_json("x\"y"), R"({"type":"oom","id":"x\"y"})");
}

}  // namespace
}  // namespace tether::spec
