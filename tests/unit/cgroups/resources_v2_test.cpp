// linux.resources on a fake cgroup v2 tree, with runc's conversions.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fake_tree.hpp"
#include "runtime/cgroups/manager.hpp"
#include "runtime/core/error.hpp"
#include "tests/unit/error_message.hpp"

namespace tether::cgroups {
namespace {

using ::testing::HasSubstr;

using testing::FakeTree;

class V2Resources : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = tree_.v2_root();
        FakeTree::put(root_.unified_mount, "cgroup.controllers", "cpu memory pids io\n");
        FakeTree::touch(root_.unified_mount, {"cgroup.subtree_control"});
        manager_ = create_cgroup_manager(root_, "/test/c1", "c1", false);
        manager_->create();
        dir_ = root_.unified_mount + "/test/c1";
    }
    FakeTree tree_;
    CgroupRoot root_;
    std::unique_ptr<CgroupManager> manager_;
    std::string dir_;
};

TEST_F(V2Resources, ControllersAreEnabledFromTheRootDown) {
    EXPECT_EQ(manager_->layout(), CgroupLayout::unified);
    EXPECT_EQ(FakeTree::read(root_.unified_mount, "cgroup.subtree_control"), "+cpu+io+memory+pids");
}

TEST_F(V2Resources, MemorySwapIsConvertedAndReservationIsMemoryLow) {
    FakeTree::touch(dir_, {"memory.max", "memory.swap.max", "memory.low"});
    spec::Resources resources;
    resources.memory = spec::MemoryResources{};
    resources.memory->limit = 100 << 20;
    resources.memory->swap = 300 << 20;
    resources.memory->reservation = 50 << 20;
    manager_->apply_resources(resources);
    EXPECT_EQ(FakeTree::read(dir_, "memory.max"), std::to_string(100 << 20));
    EXPECT_EQ(FakeTree::read(dir_, "memory.swap.max"), std::to_string(200 << 20));
    EXPECT_EQ(FakeTree::read(dir_, "memory.low"), std::to_string(50 << 20));
}

TEST_F(V2Resources, SwapEqualToLimitMeansNoSwap) {
    FakeTree::touch(dir_, {"memory.max", "memory.swap.max"});
    spec::Resources resources;
    resources.memory = spec::MemoryResources{};
    resources.memory->limit = 4096;
    resources.memory->swap = 4096;
    manager_->apply_resources(resources);
    EXPECT_EQ(FakeTree::read(dir_, "memory.swap.max"), "0");
}

TEST_F(V2Resources, UnlimitedMemoryWithoutSwapFileIsFine) {
    FakeTree::touch(dir_, {"memory.max"});  // no swap accounting
    spec::Resources resources;
    resources.memory = spec::MemoryResources{};
    resources.memory->limit = -1;
    manager_->apply_resources(resources);
    EXPECT_EQ(FakeTree::read(dir_, "memory.max"), "max");
}

TEST_F(V2Resources, V1OnlyMemorySettingsWarn) {
    FakeTree::touch(dir_, {"memory.max"});
    spec::Resources resources;
    resources.memory = spec::MemoryResources{};
    resources.memory->kernel = 1 << 20;
    resources.memory->swappiness = 10;
    resources.memory->disable_oom_killer = true;
    manager_->apply_resources(resources);
    EXPECT_EQ(manager_->warnings().size(), 3u);
}

TEST_F(V2Resources, CpuSharesBecomeWeightAndQuotaBecomesCpuMax) {
    FakeTree::touch(dir_, {"cpu.weight", "cpu.max", "cpu.max.burst", "cpu.idle", "cpuset.cpus"});
    spec::Resources resources;
    resources.cpu = spec::CpuResources{};
    resources.cpu->shares = 1024;
    resources.cpu->quota = 50000;
    resources.cpu->period = 100000;
    resources.cpu->burst = 500;
    resources.cpu->idle = 1;
    resources.cpu->cpus = "1";
    manager_->apply_resources(resources);
    EXPECT_EQ(FakeTree::read(dir_, "cpu.weight"), "39");
    EXPECT_EQ(FakeTree::read(dir_, "cpu.max"), "50000 100000");
    EXPECT_EQ(FakeTree::read(dir_, "cpu.max.burst"), "500500");
    EXPECT_EQ(FakeTree::read(dir_, "cpu.idle"), "1");
    EXPECT_EQ(FakeTree::read(dir_, "cpuset.cpus"), "1");
}

TEST_F(V2Resources, UnlimitedQuotaIsMax) {
    FakeTree::touch(dir_, {"cpu.max"});
    spec::Resources resources;
    resources.cpu = spec::CpuResources{};
    resources.cpu->quota = -1;
    resources.cpu->period = 100000;
    manager_->apply_resources(resources);
    EXPECT_EQ(FakeTree::read(dir_, "cpu.max"), "max 100000");
}

TEST_F(V2Resources, RealtimeIsRefused) {
    spec::Resources resources;
    resources.cpu = spec::CpuResources{};
    resources.cpu->realtime_runtime = 1000;
    EXPECT_THROW(manager_->apply_resources(resources), Error);
}

TEST_F(V2Resources, BlkioWeightGoesToIoWeightConvertedWithoutBfq) {
    FakeTree::touch(dir_, {"io.weight", "io.max"});
    spec::Resources resources;
    resources.block_io = spec::BlockIoResources{};
    resources.block_io->weight = 500;
    resources.block_io->throttle_read_bps_device.push_back({8, 0, 1000});
    resources.block_io->throttle_write_iops_device.push_back({8, 0, 20});
    manager_->apply_resources(resources);
    EXPECT_EQ(FakeTree::read(dir_, "io.weight"), "4950");
    EXPECT_EQ(FakeTree::read(dir_, "io.max"), "8:0 rbps=10008:0 wiops=20");
}

TEST_F(V2Resources, BlkioWeightGoesToBfqUnconverted) {
    FakeTree::touch(dir_, {"io.bfq.weight", "io.weight"});
    spec::Resources resources;
    resources.block_io = spec::BlockIoResources{};
    resources.block_io->weight = 500;
    resources.block_io->weight_device.push_back({8, 0, 100, std::nullopt});
    manager_->apply_resources(resources);
    EXPECT_EQ(FakeTree::read(dir_, "io.bfq.weight"), "5008:0 100");
    EXPECT_EQ(FakeTree::read(dir_, "io.weight"), "");
}

TEST_F(V2Resources, PidsAndHugetlb) {
    FakeTree::touch(dir_, {"pids.max", "hugetlb.2MB.max"});
    spec::Resources resources;
    resources.pids = spec::PidsResources{-1};
    resources.hugepage_limits.push_back({"2MB", 2097152});
    manager_->apply_resources(resources);
    EXPECT_EQ(FakeTree::read(dir_, "pids.max"), "max");
    EXPECT_EQ(FakeTree::read(dir_, "hugetlb.2MB.max"), "2097152");
}

TEST_F(V2Resources, UnifiedKeysAreWrittenLastAndValidated) {
    FakeTree::touch(dir_, {"memory.high", "pids.max"});
    FakeTree::put(dir_, "cgroup.controllers", "memory pids\n");
    spec::Resources resources;
    resources.pids = spec::PidsResources{10};
    resources.unified["pids.max"] = "20";
    resources.unified["memory.high"] = "1000";
    manager_->apply_resources(resources);
    EXPECT_EQ(FakeTree::read(dir_, "pids.max"), "1020");
    EXPECT_EQ(FakeTree::read(dir_, "memory.high"), "1000");

    spec::Resources escape;
    escape.unified["../../cgroup.procs"] = "1";
    EXPECT_THROW(manager_->apply_resources(escape), Error);
    spec::Resources missing;
    missing.unified["rdma.max"] = "x";
    EXPECT_THAT(test_support::error_message<Error>([&] { manager_->apply_resources(missing); }),
                HasSubstr("controller \"rdma\""));
}

TEST_F(V2Resources, StatsReadTheV2Files) {
    FakeTree::put(dir_, "cpu.stat", "usage_usec 10\nuser_usec 6\nsystem_usec 4\nnr_periods 3\n");
    FakeTree::put(dir_, "memory.current", "4096\n");
    FakeTree::put(dir_, "memory.max", "max\n");
    FakeTree::put(dir_, "pids.current", "2\n");
    FakeTree::put(dir_, "pids.max", "max\n");
    const auto stats = manager_->stats();
    EXPECT_EQ(stats.cpu.usage.total, 10000u);
    EXPECT_EQ(stats.cpu.usage.user, 6000u);
    EXPECT_EQ(stats.cpu.throttling.periods, 3u);
    EXPECT_EQ(stats.memory.usage.usage, 4096u);
    EXPECT_EQ(stats.memory.usage.limit, UINT64_MAX);
    EXPECT_EQ(stats.pids.current, 2u);
    EXPECT_EQ(stats.pids.limit, 0u);
}

TEST_F(V2Resources, FreezeWaitsForTheKernelsFrozenReport) {
    FakeTree::touch(dir_, {"cgroup.freeze"});
    FakeTree::put(dir_, "cgroup.events", "populated 1\nfrozen 1\n");
    manager_->freeze();
    EXPECT_EQ(FakeTree::read(dir_, "cgroup.freeze"), "1");
    EXPECT_TRUE(manager_->is_frozen());
    manager_->thaw();
    EXPECT_EQ(FakeTree::read(dir_, "cgroup.freeze"), "10");
}

TEST_F(V2Resources, DestroyRemovesSubCgroupsFirstAndToleratesMissing) {
    std::filesystem::create_directories(dir_ + "/sub/deeper");
    manager_->destroy();
    EXPECT_FALSE(std::filesystem::exists(dir_));
    EXPECT_NO_THROW(manager_->destroy());
    EXPECT_FALSE(manager_->exists());
}

}  // namespace
}  // namespace tether::cgroups
