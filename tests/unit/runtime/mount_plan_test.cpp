// plan_mounts as data: options and flags, propagation, the order of masks and
// read-only paths, and the refusals. No root needed: nothing is mounted.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <string>

#include "runtime/core/error.hpp"
#include "runtime/linux/mount_plan.hpp"

namespace tether::os {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

spec::Config config_with(const std::string& mounts, const std::string& linux_extra = "",
                         const std::string& namespaces = R"([{"type":"mount"},{"type":"pid"}])") {
    std::string text = R"({"ociVersion":"1.0.2","root":{"path":"rootfs","readonly":true},
        "process":{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0}},
        "mounts":)" + mounts + R"(,
        "linux":{"namespaces":)" + namespaces + (linux_extra.empty() ? "" : "," + linux_extra) + "}}";
    return spec::parse_config(text);
}

MountPlanInputs inputs() {
    MountPlanInputs in;
    in.bundle = "/b";
    return in;
}

TEST(MountPlan, OptionsBecomeFlagsDataAndRecursion) {
    auto plan = plan_mounts(config_with(R"([
        {"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["nosuid","nodev","mode=1777","size=1m"]},
        {"destination":"/data","type":"bind","source":"vol","options":["rbind","ro","noexec"]},
        {"destination":"/x","source":"/host/x","options":["bind","rw","remount"]}])"),
                            inputs());
    ASSERT_EQ(plan.mounts.size(), 3u);
    const MountStep& tmp = plan.mounts[0];
    EXPECT_EQ(tmp.action, MountAction::filesystem);
    EXPECT_EQ(tmp.source, "tmpfs");  // a filesystem's source is only a name
    EXPECT_EQ(tmp.flags, static_cast<unsigned long>(MS_NOSUID | MS_NODEV));
    EXPECT_EQ(tmp.data, "mode=1777,size=1m");
    const MountStep& data = plan.mounts[1];
    EXPECT_EQ(data.action, MountAction::bind);
    EXPECT_EQ(data.source, "/b/vol");  // relative bind sources are the bundle's
    EXPECT_TRUE(data.recursive);
    EXPECT_EQ(data.flags, static_cast<unsigned long>(MS_RDONLY | MS_NOEXEC));
    const MountStep& x = plan.mounts[2];
    EXPECT_EQ(x.action, MountAction::bind);
    EXPECT_FALSE(x.recursive);
    EXPECT_EQ(x.flags, 0ul);  // "remount" never reaches mount(2) for a new mount
    EXPECT_EQ(x.clear, static_cast<unsigned long>(MS_RDONLY));
    EXPECT_THAT(plan.refusals, IsEmpty());
}

TEST(MountPlan, MountsKeepConfigOrderAndIndex) {
    auto plan = plan_mounts(config_with(R"([{"destination":"/a","type":"tmpfs","source":"tmpfs"},
        {"destination":"/a/b","type":"tmpfs","source":"tmpfs"}])"),
                            inputs());
    ASSERT_EQ(plan.mounts.size(), 2u);
    EXPECT_EQ(plan.mounts[0].destination, "/a");
    EXPECT_EQ(plan.mounts[1].destination, "/a/b");
    EXPECT_EQ(plan.mounts[1].index, 1u);
}

TEST(MountPlan, ProcSysfsAndDevMustBeRealDirectories) {
    auto plan = plan_mounts(config_with(R"([{"destination":"/proc","type":"proc","source":"proc"},
        {"destination":"/sys","type":"sysfs","source":"sysfs"},
        {"destination":"/dev","type":"tmpfs","source":"tmpfs"},
        {"destination":"/data","type":"tmpfs","source":"tmpfs"}])"),
                            inputs());
    EXPECT_TRUE(plan.mounts[0].refuse_symlink);
    EXPECT_TRUE(plan.mounts[1].refuse_symlink);
    EXPECT_TRUE(plan.mounts[2].refuse_symlink);
    EXPECT_FALSE(plan.mounts[3].refuse_symlink);
}

TEST(MountPlan, PerMountPropagation) {
    auto plan = plan_mounts(config_with(R"([{"destination":"/a","type":"bind","source":"/a","options":["rbind","rshared"]},
        {"destination":"/b","type":"bind","source":"/b","options":["bind","private"]}])"),
                            inputs());
    EXPECT_EQ(plan.mounts[0].propagation, static_cast<unsigned long>(MS_SHARED | MS_REC));
    EXPECT_EQ(plan.mounts[1].propagation, static_cast<unsigned long>(MS_PRIVATE));
}

TEST(MountPlan, RootfsPropagationEveryValue) {
    struct Case {
        const char* value;
        std::vector<unsigned long> before;
        unsigned long after;
    };
    const unsigned long rslave = MS_SLAVE | MS_REC;
    const std::vector<Case> cases = {
        {"", {rslave}, 0},
        {"private", {rslave, MS_PRIVATE}, MS_PRIVATE},
        {"rprivate", {rslave, MS_PRIVATE | MS_REC}, MS_PRIVATE | MS_REC},
        {"slave", {rslave, MS_SLAVE}, MS_SLAVE},
        {"rslave", {rslave, rslave}, rslave},
        // shared and unbindable wait for pivot_root: the rootfs could not
        // be bound from an unbindable /, and pivot_root refuses a shared parent.
        {"shared", {rslave}, MS_SHARED},
        {"rshared", {rslave}, MS_SHARED | MS_REC},
        {"unbindable", {rslave}, MS_UNBINDABLE},
        {"runbindable", {rslave}, MS_UNBINDABLE | MS_REC},
    };
    for (const auto& c : cases) {
        std::string extra = *c.value ? std::string(R"("rootfsPropagation":")") + c.value + "\"" : "";
        auto plan = plan_mounts(config_with("[]", extra), inputs());
        EXPECT_EQ(plan.host_propagation, c.before) << c.value;
        EXPECT_EQ(plan.root_propagation, c.after) << c.value;
        EXPECT_THAT(plan.refusals, IsEmpty()) << c.value;
    }
}

TEST(MountPlan, MasksThenReadOnlyPathsInConfigOrder) {
    auto plan = plan_mounts(config_with("[]", R"("maskedPaths":["/proc/kcore","/sys/firmware"],
        "readonlyPaths":["/proc/sys","/proc/bus"])"),
                            inputs());
    EXPECT_THAT(plan.masked_paths, ElementsAre("/proc/kcore", "/sys/firmware"));
    EXPECT_THAT(plan.readonly_paths, ElementsAre("/proc/sys", "/proc/bus"));
    EXPECT_TRUE(plan.readonly_root);
}

TEST(MountPlan, DevicesMadeUnlessDevIsBound) {
    auto made = plan_mounts(config_with(R"([{"destination":"/dev","type":"tmpfs","source":"tmpfs"}])"), inputs());
    EXPECT_TRUE(made.create_devices);
    EXPECT_FALSE(made.bind_devices);
    auto bound = plan_mounts(config_with(R"([{"destination":"/dev","type":"bind","source":"/dev","options":["rbind"]}])"),
                             inputs());
    EXPECT_FALSE(bound.create_devices);
    MountPlanInputs userns = inputs();
    userns.new_user_namespace = true;
    EXPECT_TRUE(plan_mounts(config_with("[]"), userns).bind_devices);
}

TEST(MountPlan, SysfsInAUserNamespaceWithoutItsOwnNetworkIsTheHostsBound) {
    MountPlanInputs userns = inputs();
    userns.new_user_namespace = true;
    auto plan = plan_mounts(config_with(R"([{"destination":"/sys","type":"sysfs","source":"sysfs","options":["ro"]}])"),
                            userns);
    EXPECT_EQ(plan.mounts[0].action, MountAction::sysfs_from_host);
    EXPECT_EQ(plan.mounts[0].source, "/sys");
    EXPECT_TRUE(plan.mounts[0].recursive);
    userns.own_network_namespace = true;
    plan = plan_mounts(config_with(R"([{"destination":"/sys","type":"sysfs","source":"sysfs"}])"), userns);
    EXPECT_EQ(plan.mounts[0].action, MountAction::filesystem);
}

TEST(MountPlan, CgroupMountsFollowTheHostLayout) {
    MountPlanInputs v1 = inputs();
    v1.host_cgroup_unified = false;
    const std::string mounts = R"([{"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup"}])";
    EXPECT_EQ(plan_mounts(config_with(mounts), v1).mounts[0].action, MountAction::cgroup_v1);
    v1.own_cgroup_namespace = true;
    EXPECT_EQ(plan_mounts(config_with(mounts), v1).mounts[0].action, MountAction::cgroup2);
    EXPECT_EQ(plan_mounts(config_with(mounts), inputs()).mounts[0].action, MountAction::cgroup2);
}

TEST(MountPlan, RefusesABindWithoutSourceAndIdmappedMounts) {
    auto plan = plan_mounts(config_with(R"([{"destination":"/a","type":"bind","options":["rbind"]},
        {"destination":"/b","type":"bind","source":"/b","options":["rbind","idmap"]}])"),
                            inputs());
    EXPECT_THAT(plan.refusals, ElementsAre(HasSubstr("mounts[0].source"), HasSubstr("mounts[1].options: idmapped")));
    try {
        require_mount_plan(plan);
        FAIL() << "require_mount_plan accepted a refused plan";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("mounts[0].source: a bind mount of /a needs a source"));
    }
}

TEST(MountPlan, WithoutAMountNamespaceNothingIsMountedAndMountFieldsAreRefusedByName) {
    MountPlanInputs shared = inputs();
    shared.new_mount_namespace = false;
    auto plain = plan_mounts(config_with("[]", "", R"([{"type":"pid"}])"), shared);
    EXPECT_FALSE(plain.new_mount_namespace);
    EXPECT_FALSE(plain.create_devices);
    EXPECT_THAT(plain.mounts, IsEmpty());
    EXPECT_THAT(plain.refusals, ElementsAre(HasSubstr("root.readonly")));  // config_with sets it

    auto plan = plan_mounts(config_with(R"([{"destination":"/proc","type":"proc","source":"proc"}])",
                                        R"("maskedPaths":["/proc/kcore"],"readonlyPaths":["/proc/sys"],
                                           "rootfsPropagation":"shared")",
                                        R"([{"type":"pid"}])"),
                            shared);
    EXPECT_THAT(plan.refusals, ElementsAre(HasSubstr("mounts[0] (/proc): needs a mount namespace"),
                                           HasSubstr("linux.maskedPaths"), HasSubstr("linux.readonlyPaths"),
                                           HasSubstr("linux.rootfsPropagation"), HasSubstr("root.readonly")));
    EXPECT_THAT(plan.mounts, IsEmpty());
}

}  // namespace
}  // namespace tether::os
