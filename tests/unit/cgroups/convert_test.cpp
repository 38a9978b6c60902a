// runc's v1 -> v2 conversions, with the values runc's own tests use.
#include <gtest/gtest.h>

#include "runtime/cgroups/convert.hpp"
#include "runtime/cgroups/device_rules.hpp"
#include "runtime/core/error.hpp"

namespace tether::cgroups {
namespace {

TEST(CgroupConvert, CpuSharesToWeight) {
    EXPECT_EQ(cpu_shares_to_weight(0), 0u);
    EXPECT_EQ(cpu_shares_to_weight(2), 1u);
    EXPECT_EQ(cpu_shares_to_weight(1024), 39u);  // 1 + (1022*9999)/262142
    EXPECT_EQ(cpu_shares_to_weight(262144), 10000u);
}

TEST(CgroupConvert, BlkioWeightToIoWeight) {
    EXPECT_EQ(blkio_weight_to_io_weight(0), 0u);
    EXPECT_EQ(blkio_weight_to_io_weight(10), 1u);
    EXPECT_EQ(blkio_weight_to_io_weight(500), 4950u);  // 1 + 490*9999/990
    EXPECT_EQ(blkio_weight_to_io_weight(1000), 10000u);
}

TEST(CgroupConvert, MemorySwapIsSwapAloneOnV2) {
    EXPECT_EQ(memory_swap_to_v2(0, -1), -1) << "unlimited memory lifts swap too";
    EXPECT_EQ(memory_swap_to_v2(0, 100), 0);
    EXPECT_EQ(memory_swap_to_v2(-1, 100), -1);
    EXPECT_EQ(memory_swap_to_v2(300, 100), 200);
    EXPECT_EQ(memory_swap_to_v2(100, 100), 0);
    EXPECT_THROW(memory_swap_to_v2(100, 0), Error);
    EXPECT_THROW(memory_swap_to_v2(50, 100), Error);
}

TEST(CgroupConvert, CpuMax) {
    EXPECT_FALSE(cpu_max_value(std::nullopt, std::nullopt));
    EXPECT_EQ(cpu_max_value(50000, 100000).value(), "50000 100000");
    EXPECT_EQ(cpu_max_value(-1, 100000).value(), "max 100000");
    EXPECT_EQ(cpu_max_value(50000, std::nullopt).value(), "50000");
    EXPECT_EQ(cpu_max_value(std::nullopt, 20000).value(), "max 20000");
}

TEST(CgroupConvert, V1DeviceLines) {
    spec::DeviceRule rule;
    EXPECT_EQ(v1_device_rule_line(rule), "a *:* rwm");
    rule.type = "c";
    rule.major = 136;
    rule.access = "rw";
    EXPECT_EQ(v1_device_rule_line(rule), "c 136:* rw");
}

TEST(CgroupDeviceRules, DefaultsFollowTheConfigSoTheyWinOverDenyAll) {
    spec::DeviceRule deny_all;  // podman's only rule
    spec::Device fuse;
    fuse.path = "/dev/fuse";
    fuse.major = 10;
    fuse.minor = 229;
    const auto rules = effective_device_rules({deny_all}, {fuse});
    ASSERT_EQ(rules.size(), 1 + default_device_rules().size() + 1);
    EXPECT_FALSE(rules.front().allow);
    EXPECT_EQ(v1_device_rule_line(rules[1]), "c *:* m");
    EXPECT_EQ(v1_device_rule_line(rules[3]), "c 1:3 rwm");
    EXPECT_EQ(v1_device_rule_line(rules.back()), "c 10:229 rwm");
    EXPECT_TRUE(rules.back().allow);
}

}  // namespace
}  // namespace tether::cgroups
