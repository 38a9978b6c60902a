// Layout detection, cgroupsPath rules and the saved-path round trip.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fake_tree.hpp"
#include "runtime/cgroups/layout.hpp"
#include "runtime/cgroups/manager.hpp"
#include "runtime/cgroups/paths.hpp"
#include "runtime/core/error.hpp"
#include "tests/unit/error_message.hpp"

namespace tether::cgroups {
namespace {

using ::testing::HasSubstr;

using testing::FakeTree;

// This machine's mountinfo, a pure v2 host and a pure v1 host with the usual
// cpu,cpuacct co-mount.
constexpr const char* kHybridMountinfo =
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
constexpr const char* kUnifiedMountinfo =
    "25 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate\n";
constexpr const char* kLegacyMountinfo =
    "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:12 - cgroup cgroup rw,cpu,cpuacct\n"
    "35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n";

TEST(CgroupLayout, DetectsHybridFromThisMachinesMountinfo) {
    const CgroupRoot root = parse_cgroup_mounts(kHybridMountinfo);
    EXPECT_EQ(root.layout(), CgroupLayout::hybrid);
    EXPECT_EQ(root.unified_mount, "/sys/fs/cgroup/unified");
    EXPECT_EQ(root.v1_mounts.at("memory"), "/sys/fs/cgroup/memory");
    EXPECT_EQ(root.v1_mounts.at("name=systemd"), "/sys/fs/cgroup/systemd");
    EXPECT_EQ(root.v1_mounts.count("xattr"), 0u) << "mount flags are not controllers";
}

TEST(CgroupLayout, DetectsUnifiedAndLegacy) {
    const CgroupRoot unified = parse_cgroup_mounts(kUnifiedMountinfo);
    EXPECT_EQ(unified.layout(), CgroupLayout::unified);
    EXPECT_EQ(unified.unified_mount, "/sys/fs/cgroup");
    const CgroupRoot legacy = parse_cgroup_mounts(kLegacyMountinfo);
    EXPECT_EQ(legacy.layout(), CgroupLayout::legacy);
    EXPECT_EQ(legacy.v1_mounts.at("cpu"), "/sys/fs/cgroup/cpu,cpuacct");
    EXPECT_EQ(legacy.v1_mounts.at("cpuacct"), "/sys/fs/cgroup/cpu,cpuacct");
}

TEST(CgroupLayout, NoCgroupMountIsAnError) {
    EXPECT_THROW(parse_cgroup_mounts("22 1 0:5 / /proc rw - proc proc rw\n").layout(), Error);
}

TEST(CgroupLayout, ParsesProcSelfCgroup) {
    const auto own = parse_proc_cgroup("4:memory:/process_api/abc\n2:cpu,cpuacct:/x:y\n0::/user.slice\n");
    EXPECT_EQ(own.at("memory"), "/process_api/abc");
    EXPECT_EQ(own.at("cpuacct"), "/x:y");
    EXPECT_EQ(own.at(""), "/user.slice");
}

TEST(CgroupsPath, NormalizesAndRefusesEscapes) {
    EXPECT_EQ(normalize_cgroups_path("/a//b/./c/"), "/a/b/c");
    EXPECT_EQ(normalize_cgroups_path("a/x/../b"), "a/b");
    EXPECT_THROW(normalize_cgroups_path("/../etc"), Error);
    EXPECT_THROW(normalize_cgroups_path("a/../../b"), Error);
    EXPECT_THROW(normalize_cgroups_path(".."), Error);
    EXPECT_THAT(test_support::error_message<Error>([&] { normalize_cgroups_path("/a/../../x"); }),
                HasSubstr("linux.cgroupsPath"));
}

TEST(CgroupsPath, EscapeIsRefusedByTheFactoryBeforeAnyDirectoryExists) {
    FakeTree tree;
    EXPECT_THROW(create_cgroup_manager(tree.v2_root(), "/a/../../x", "id", false), Error);
}

TEST(CgroupsPath, AbsolutePathIsRelativeToTheHierarchyRoot) {
    FakeTree tree;
    CgroupRoot root = tree.v1_root({"memory", "cpu"});
    root.own_cgroups["memory"] = "/somewhere/else";
    auto manager = create_cgroup_manager(root, "/machine/c1", "c1", false);
    manager->create();
    EXPECT_TRUE(std::filesystem::is_directory(tree.base() + "/v1/memory/machine/c1"));
    EXPECT_TRUE(std::filesystem::is_directory(tree.base() + "/v1/cpu/machine/c1"));
    EXPECT_EQ(manager->saved_path(), "/machine/c1");
}

TEST(CgroupsPath, RelativePathIsBelowOurOwnCgroupOnV1) {
    FakeTree tree;
    CgroupRoot root = tree.v1_root({"memory", "cpu"});
    root.own_cgroups["memory"] = "/sandbox";
    auto manager = create_cgroup_manager(root, "pods/c1", "c1", false);
    manager->create();
    EXPECT_TRUE(std::filesystem::is_directory(tree.base() + "/v1/memory/sandbox/pods/c1"));
    EXPECT_TRUE(std::filesystem::is_directory(tree.base() + "/v1/cpu/pods/c1"));
    // Different paths per hierarchy survive the trip through the state file.
    auto reopened = open_cgroup_manager(root, manager->saved_path(), false);
    EXPECT_EQ(reopened->saved_path(), manager->saved_path());
    FakeTree::touch(tree.base() + "/v1/memory/sandbox/pods/c1", {"memory.limit_in_bytes"});
    spec::Resources resources;
    resources.memory = spec::MemoryResources{};
    resources.memory->limit = 4096;
    reopened->apply_resources(resources);
    EXPECT_EQ(FakeTree::read(tree.base() + "/v1/memory/sandbox/pods/c1", "memory.limit_in_bytes"), "4096");
}

TEST(CgroupsPath, EmptyPathDefaultsToTheIdBelowTheParentOfOurCgroupOnV2) {
    FakeTree tree;
    CgroupRoot root = tree.v2_root();
    root.own_cgroups[""] = "/user.slice/session-1.scope";
    auto manager = create_cgroup_manager(root, "", "mycontainer", false);
    manager->create();
    EXPECT_EQ(manager->saved_path(), "/user.slice/mycontainer");
    EXPECT_TRUE(std::filesystem::is_directory(tree.base() + "/unified/user.slice/mycontainer"));
}

TEST(CgroupsPath, SavedPathRoundTripKeepsKeysWithEqualsSigns) {
    HierarchyPaths paths{{"name=systemd", "/a"}, {"memory", "/m/a"}, {"unified", "/a"}};
    EXPECT_EQ(decode_saved_path(encode_saved_path(paths)), paths);
    EXPECT_EQ(encode_saved_path({{"cpu", "/x"}, {"memory", "/x"}}), "/x");
    EXPECT_THROW(decode_saved_path("memory=/../x"), Error);
    EXPECT_THROW(decode_saved_path("garbage"), Error);
}

TEST(CgroupsPath, HybridSavesOnePathWhenAllHierarchiesAgree) {
    FakeTree tree;
    CgroupRoot root = tree.v1_root({"memory", "pids"});
    root.unified_mount = tree.base() + "/unified";
    std::filesystem::create_directories(root.unified_mount);
    auto manager = create_cgroup_manager(root, "/t/c1", "c1", false);
    EXPECT_EQ(manager->layout(), CgroupLayout::hybrid);
    manager->create();
    EXPECT_EQ(manager->saved_path(), "/t/c1");
    EXPECT_TRUE(std::filesystem::is_directory(root.unified_mount + "/t/c1"));
    manager->destroy();
    EXPECT_FALSE(manager->exists());
    EXPECT_FALSE(std::filesystem::exists(root.unified_mount + "/t/c1"));
    EXPECT_FALSE(std::filesystem::exists(tree.base() + "/v1/memory/t/c1"));
}

// The container's cgroup in each mounted v1 hierarchy (rootfs.cpp binds it
// into a `type: cgroup` mount): the saved path names controllers one by one,
// the mounts may join several, and name=systemd is mounted as "systemd".
TEST(SavedPath, EachMountedHierarchyFindsItsOwnCgroup) {
    HierarchyPaths paths = decode_saved_path(
        "blkio=/c1;cpu=/c1;cpuacct=/c1;memory=/runtime/x/c1;name=systemd=/c1;pids=/c1;unified=/c1");
    EXPECT_EQ(path_in_mounted_hierarchy(paths, "memory"), "/runtime/x/c1");
    EXPECT_EQ(path_in_mounted_hierarchy(paths, "cpu,cpuacct"), "/c1");
    EXPECT_EQ(path_in_mounted_hierarchy(paths, "systemd"), "/c1");
    EXPECT_EQ(path_in_mounted_hierarchy(paths, "net_cls,net_prio"), "") << "no controller of it is named";
    EXPECT_EQ(path_in_mounted_hierarchy(decode_saved_path("/a/c1"), "memory"), "/a/c1") << "one path for all";
    // The systemd driver's scope: one path in every hierarchy.
    HierarchyPaths scope = saved_hierarchy_paths("systemd:libpod-1.scope:/machine.slice/libpod-1.scope");
    EXPECT_EQ(path_in_mounted_hierarchy(scope, "cpu,cpuacct"), "/machine.slice/libpod-1.scope");
    EXPECT_EQ(path_in_mounted_hierarchy(saved_hierarchy_paths("memory=/m/c1;cpu=/c1"), "memory"), "/m/c1");
}

}  // namespace
}  // namespace tether::cgroups
