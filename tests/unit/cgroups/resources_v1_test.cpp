// linux.resources on a fake cgroup v1 tree: the file, the value and the
// order of every write.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/wait.h>

#include <filesystem>
#include <vector>

#include "fake_tree.hpp"
#include "runtime/cgroups/manager.hpp"
#include "runtime/core/error.hpp"
#include "tests/unit/error_message.hpp"

namespace tether::cgroups {
namespace {

using ::testing::HasSubstr;

using testing::FakeTree;

class V1Resources : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = tree_.v1_root({"memory", "cpu", "cpuset", "pids", "blkio", "devices", "freezer", "hugetlb"});
        manager_ = create_cgroup_manager(root_, "/test/c1", "c1", false);
        manager_->create();
    }
    std::string dir(const char* controller) const { return tree_.base() + "/v1/" + controller + "/test/c1"; }

    FakeTree tree_;
    CgroupRoot root_;
    std::unique_ptr<CgroupManager> manager_;
};

TEST_F(V1Resources, MemoryLimitSwapReservationSwappinessOom) {
    FakeTree::put(dir("memory"), "memory.limit_in_bytes", "");
    FakeTree::touch(dir("memory"), {"memory.memsw.limit_in_bytes", "memory.soft_limit_in_bytes",
                                    "memory.swappiness", "memory.oom_control"});
    spec::Resources resources;
    resources.memory = spec::MemoryResources{};
    resources.memory->limit = 100;
    resources.memory->swap = 200;
    resources.memory->reservation = 50;
    resources.memory->swappiness = 10;
    resources.memory->disable_oom_killer = true;
    // The current limit reads as 0 (< 200): swap goes first so memsw >= limit
    // holds at every step.
    FakeTree::put(dir("memory"), "memory.limit_in_bytes", "0");
    manager_->apply_resources(resources);
    EXPECT_EQ(FakeTree::read(dir("memory"), "memory.limit_in_bytes"), "0100");
    EXPECT_EQ(FakeTree::read(dir("memory"), "memory.memsw.limit_in_bytes"), "200");
    EXPECT_EQ(FakeTree::read(dir("memory"), "memory.soft_limit_in_bytes"), "50");
    EXPECT_EQ(FakeTree::read(dir("memory"), "memory.swappiness"), "10");
    EXPECT_EQ(FakeTree::read(dir("memory"), "memory.oom_control"), "1");
}

TEST_F(V1Resources, UnlimitedMemoryAlsoLiftsSwap) {
    FakeTree::put(dir("memory"), "memory.limit_in_bytes", "0");  // the current limit
    FakeTree::touch(dir("memory"), {"memory.memsw.limit_in_bytes"});
    spec::Resources resources;
    resources.memory = spec::MemoryResources{};
    resources.memory->limit = -1;
    manager_->apply_resources(resources);
    EXPECT_EQ(FakeTree::read(dir("memory"), "memory.memsw.limit_in_bytes"), "-1");
    EXPECT_EQ(FakeTree::read(dir("memory"), "memory.limit_in_bytes"), "0-1");
}

TEST_F(V1Resources, KernelMemoryIsIgnoredWithAWarningWhereTheKernelDroppedIt) {
    FakeTree::touch(dir("memory"), {"memory.limit_in_bytes"});
    spec::Resources resources;
    resources.memory = spec::MemoryResources{};
    resources.memory->kernel = 1 << 20;  // no memory.kmem.limit_in_bytes here
    manager_->apply_resources(resources);
    ASSERT_EQ(manager_->warnings().size(), 1u);
    EXPECT_NE(manager_->warnings()[0].find("memory.kernel"), std::string::npos);
}

TEST_F(V1Resources, SwappinessAbove100IsRefused) {
    spec::Resources resources;
    resources.memory = spec::MemoryResources{};
    resources.memory->swappiness = 101;
    EXPECT_THROW(manager_->apply_resources(resources), Error);
}

TEST_F(V1Resources, CpuSharesQuotaPeriodBurstRealtimeCpuset) {
    FakeTree::touch(dir("cpu"), {"cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.cfs_burst_us", "cpu.rt_period_us",
                                 "cpu.rt_runtime_us"});
    FakeTree::touch(dir("cpuset"), {"cpuset.cpus", "cpuset.mems"});
    spec::Resources resources;
    resources.cpu = spec::CpuResources{};
    resources.cpu->quota = 50000;
    resources.cpu->period = 100000;
    resources.cpu->burst = 1000;
    resources.cpu->realtime_period = 1000000;
    resources.cpu->realtime_runtime = 950000;
    resources.cpu->cpus = "0-1";
    resources.cpu->mems = "0";
    manager_->apply_resources(resources);
    // Period and burst are written again after the quota (runc's order).
    EXPECT_EQ(FakeTree::read(dir("cpu"), "cpu.cfs_period_us"), "100000100000");
    EXPECT_EQ(FakeTree::read(dir("cpu"), "cpu.cfs_quota_us"), "50000");
    EXPECT_EQ(FakeTree::read(dir("cpu"), "cpu.cfs_burst_us"), "10001000");
    EXPECT_EQ(FakeTree::read(dir("cpu"), "cpu.rt_period_us"), "1000000");
    EXPECT_EQ(FakeTree::read(dir("cpu"), "cpu.rt_runtime_us"), "950000");
    EXPECT_EQ(FakeTree::read(dir("cpuset"), "cpuset.cpus"), "0-1");
    EXPECT_EQ(FakeTree::read(dir("cpuset"), "cpuset.mems"), "0");
}

TEST_F(V1Resources, CpuSharesClampedByTheKernelIsAnError) {
    // A plain file reads back what was written, so simulate the clamp by a
    // pre-existing value the write is appended to.
    FakeTree::put(dir("cpu"), "cpu.shares", "");
    spec::Resources resources;
    resources.cpu = spec::CpuResources{};
    resources.cpu->shares = 512;
    manager_->apply_resources(resources);
    EXPECT_EQ(FakeTree::read(dir("cpu"), "cpu.shares"), "512");
    FakeTree::put(dir("cpu"), "cpu.shares", "2");  // next read: "21"
    resources.cpu->shares = 1;
    EXPECT_THROW(manager_->apply_resources(resources), Error);
}

TEST_F(V1Resources, PidsLimitAndUnlimited) {
    FakeTree::touch(dir("pids"), {"pids.max"});
    spec::Resources resources;
    resources.pids = spec::PidsResources{42};
    manager_->apply_resources(resources);
    resources.pids = spec::PidsResources{0};
    manager_->apply_resources(resources);
    EXPECT_EQ(FakeTree::read(dir("pids"), "pids.max"), "42max");
}

TEST_F(V1Resources, BlockIoPrefersBfqFiles) {
    FakeTree::touch(dir("blkio"), {"blkio.bfq.weight", "blkio.bfq.weight_device", "blkio.throttle.read_bps_device",
                                   "blkio.throttle.write_iops_device"});
    spec::Resources resources;
    resources.block_io = spec::BlockIoResources{};
    resources.block_io->weight = 300;
    resources.block_io->weight_device.push_back({8, 0, 200, std::nullopt});
    resources.block_io->throttle_read_bps_device.push_back({8, 0, 1048576});
    resources.block_io->throttle_write_iops_device.push_back({8, 16, 100});
    manager_->apply_resources(resources);
    EXPECT_EQ(FakeTree::read(dir("blkio"), "blkio.bfq.weight"), "300");
    EXPECT_EQ(FakeTree::read(dir("blkio"), "blkio.bfq.weight_device"), "8:0 200");
    EXPECT_EQ(FakeTree::read(dir("blkio"), "blkio.throttle.read_bps_device"), "8:0 1048576");
    EXPECT_EQ(FakeTree::read(dir("blkio"), "blkio.throttle.write_iops_device"), "8:16 100");
}

TEST_F(V1Resources, BlockIoWeightWithoutAnyWeightFileIsAnError) {
    spec::Resources resources;
    resources.block_io = spec::BlockIoResources{};
    resources.block_io->weight = 300;
    EXPECT_THROW(manager_->apply_resources(resources), Error);
}

TEST_F(V1Resources, DevicesAreWrittenInOrderToAllowAndDeny) {
    FakeTree::touch(dir("devices"), {"devices.allow", "devices.deny"});
    spec::Resources resources;
    resources.devices.push_back({});  // deny all
    spec::DeviceRule null_device;
    null_device.allow = true;
    null_device.type = "c";
    null_device.major = 1;
    null_device.minor = 3;
    null_device.access = "rw";
    resources.devices.push_back(null_device);
    manager_->apply_resources(resources);
    EXPECT_EQ(FakeTree::read(dir("devices"), "devices.deny"), "a *:* rwm");
    EXPECT_EQ(FakeTree::read(dir("devices"), "devices.allow"), "c 1:3 rw");
}

TEST_F(V1Resources, HugetlbNeedsAKnownPageSize) {
    FakeTree::touch(dir("hugetlb"), {"hugetlb.2MB.limit_in_bytes", "hugetlb.2MB.rsvd.limit_in_bytes"});
    spec::Resources resources;
    resources.hugepage_limits.push_back({"2MB", 4194304});
    manager_->apply_resources(resources);
    EXPECT_EQ(FakeTree::read(dir("hugetlb"), "hugetlb.2MB.limit_in_bytes"), "4194304");
    EXPECT_EQ(FakeTree::read(dir("hugetlb"), "hugetlb.2MB.rsvd.limit_in_bytes"), "4194304");
    resources.hugepage_limits = {{"3MB", 1}};
    EXPECT_THROW(manager_->apply_resources(resources), Error);
}

TEST_F(V1Resources, UnifiedKeysAreRefusedNamingTheKey) {
    spec::Resources resources;
    resources.unified["memory.high"] = "1000";
    EXPECT_THAT(test_support::error_message<Error>([&] { manager_->apply_resources(resources); }),
                HasSubstr("memory.high"));
}

TEST_F(V1Resources, LimitOnAnUnmountedControllerIsAnError) {
    spec::Resources resources;
    resources.network = spec::NetworkResources{};
    resources.network->class_id = 7;
    EXPECT_THAT(test_support::error_message<Error>([&] { manager_->apply_resources(resources); }),
                HasSubstr("net_cls"));
}

TEST_F(V1Resources, NewCpusetCgroupInheritsCpusAndMems) {
    FakeTree tree;
    CgroupRoot root = tree.v1_root({"cpuset"});
    const std::string mount = root.v1_mounts["cpuset"];
    FakeTree::put(mount, "cpuset.cpus", "0-3\n");
    FakeTree::put(mount, "cpuset.mems", "0\n");
    // The kernel creates the knobs empty in every new cpuset cgroup; the
    // fake tree cannot, so pre-create the levels with empty files.
    FakeTree::touch(mount + "/a", {"cpuset.cpus", "cpuset.mems"});
    FakeTree::touch(mount + "/a/b", {"cpuset.cpus", "cpuset.mems"});
    auto manager = create_cgroup_manager(root, "/a/b", "b", false);
    manager->create();
    EXPECT_EQ(FakeTree::read(mount + "/a", "cpuset.cpus"), "0-3");
    EXPECT_EQ(FakeTree::read(mount + "/a/b", "cpuset.mems"), "0");
}

TEST_F(V1Resources, AddProcessWritesEveryHierarchy) {
    for (const char* controller : {"memory", "cpu", "cpuset", "pids", "blkio", "devices", "freezer", "hugetlb"})
        FakeTree::touch(dir(controller), {"cgroup.procs"});
    manager_->add_process(12345);
    for (const char* controller : {"memory", "cpu", "pids", "freezer", "devices"})
        EXPECT_EQ(FakeTree::read(dir(controller), "cgroup.procs"), "12345") << controller;
}

TEST(V1Rootless, SkipsHierarchiesItCannotCreateWithAWarning) {
    FakeTree tree;
    CgroupRoot root = tree.v1_root({"memory", "pids"});
    // The unprivileged user may create below pids but not below memory.
    ASSERT_EQ(::chmod(tree.base().c_str(), 0755), 0);
    ASSERT_EQ(::chmod((tree.base() + "/v1").c_str(), 0755), 0);
    ASSERT_EQ(::chmod(root.v1_mounts["memory"].c_str(), 0555), 0);
    ASSERT_EQ(::chmod(root.v1_mounts["pids"].c_str(), 0777), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // As root, modes do not stop mkdir: become an unprivileged user.
        if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) _exit(10);
        try {
            auto manager = create_cgroup_manager(root, "/r/c1", "c1", /*rootless=*/true);
            manager->create();
            if (manager->warnings().size() != 1) _exit(11);
            if (manager->warnings()[0].find("memory") == std::string::npos) _exit(12);
            if (!std::filesystem::is_directory(root.v1_mounts["pids"] + "/r/c1")) _exit(13);
            // A limit on the skipped hierarchy is an error naming it (runc).
            spec::Resources resources;
            resources.memory = spec::MemoryResources{};
            resources.memory->limit = 1 << 20;
            try {
                manager->apply_resources(resources);
                _exit(14);
            } catch (const Error& error) {
                if (std::string(error.what()).find("memory") == std::string::npos) _exit(15);
            }
        } catch (...) {
            _exit(16);
        }
        _exit(0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ::chmod(root.v1_mounts["memory"].c_str(), 0755);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

// The v1 tasks files a new process writes "0" to itself (self_join.hpp):
// one per hierarchy, opened by the runtime; the plain files of the fake
// tree keep every write.
TEST_F(V1Resources, SelfJoinOpensEveryTasksFileAndTheChildWritesZero) {
    for (const char* controller : {"memory", "cpu", "cpuset", "pids", "blkio", "devices", "freezer", "hugetlb"})
        FakeTree::touch(dir(controller), {"tasks"});
    SelfJoin join = manager_->prepare_self_join();
    EXPECT_FALSE(join.cgroup2_dir);
    ASSERT_EQ(join.tasks.size(), 8u);
    ASSERT_EQ(join.tasks_paths.size(), 8u);
    join_from_inside(join);
    EXPECT_TRUE(join.tasks.empty());
    for (const char* controller : {"memory", "cpu", "cpuset", "pids", "blkio", "devices", "freezer", "hugetlb"})
        EXPECT_EQ(FakeTree::read(dir(controller), "tasks"), "0") << controller;
    // Nothing left for the parent: no cgroup.procs write.
    manager_->finish_join(4242, false);
    EXPECT_FALSE(std::filesystem::exists(dir("memory") + "/cgroup.procs"));
}

// Split create (manager.hpp, create_v1): the tasks files are named before
// they exist, and the child opens them itself once `go` says they do.
TEST_F(V1Resources, SplitJoinNamesTheTasksFilesTheChildOpensAfterGo) {
    ASSERT_TRUE(manager_->can_create_v1_after_clone());
    SelfJoin join = manager_->prepare_split_join();
    EXPECT_TRUE(join.v1_after_go);
    EXPECT_TRUE(join.tasks.empty());
    ASSERT_EQ(join.tasks_paths.size(), 8u);
    join_from_inside(join);  // step 0: nothing of v1 yet
    for (const char* controller : {"memory", "cpu", "cpuset", "pids", "blkio", "devices", "freezer", "hugetlb"})
        FakeTree::touch(dir(controller), {"tasks"});
    // The runtime opens them once made, in the same order, and go brings them.
    SelfJoin opened = manager_->prepare_self_join();
    ASSERT_EQ(opened.tasks_paths, join.tasks_paths);
    join_v1_after_go(join, std::move(opened.tasks));
    EXPECT_FALSE(join.v1_after_go);
    for (const char* controller : {"memory", "cpu", "cpuset", "pids", "blkio", "devices", "freezer", "hugetlb"})
        EXPECT_EQ(FakeTree::read(dir(controller), "tasks"), "0") << controller;
}

TEST_F(V1Resources, SplitJoinRefusesAGoWithoutEveryTasksFile) {
    SelfJoin join = manager_->prepare_split_join();
    std::vector<UniqueFd> one;
    one.emplace_back(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    EXPECT_THAT(test_support::error_message<Error>([&] { join_v1_after_go(join, std::move(one)); }),
                HasSubstr("1 tasks files, 8 expected"));
}

TEST_F(V1Resources, SelfJoinFailsNamingAMissingTasksFile) {
    // Root: a hierarchy that cannot be joined is an error before the clone.
    for (const char* controller : {"memory", "cpu", "cpuset", "blkio", "devices", "freezer", "hugetlb"})
        FakeTree::touch(dir(controller), {"tasks"});
    EXPECT_THAT(test_support::error_message<Error>([&] { manager_->prepare_self_join(); }),
                HasSubstr(dir("pids") + "/tasks"));
}

}  // namespace
}  // namespace tether::cgroups
