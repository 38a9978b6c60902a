// The v2 device program loaded and attached for real, on this machine's
// cgroup2 mount (device programs work on cgroup2 whatever controllers it
// carries): a process in the cgroup cannot open a denied device.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/cgroups/cgroup_fs.hpp"
#include "runtime/cgroups/device_filter_bpf.hpp"
#include "runtime/cgroups/device_rules.hpp"
#include "runtime/cgroups/layout.hpp"
#include "runtime/cgroups/v2_manager.hpp"
#include "runtime/core/error.hpp"

namespace tether::cgroups {
namespace {

// Forks a child that joins dir and tries to open path read-write; returns
// 0 when the open worked, else the errno it got.
int open_errno_in_cgroup(const std::string& dir, const char* path) {
    int result[2];
    if (::pipe(result) != 0) return -1;
    const pid_t child = ::fork();
    if (child == 0) {
        int err = try_write_file(dir, "cgroup.procs", std::to_string(::getpid()));
        if (err == 0) {
            const int fd = ::open(path, O_RDWR | O_CLOEXEC);
            err = fd >= 0 ? 0 : errno;
        } else {
            err = -err;  // could not even join
        }
        if (::write(result[1], &err, sizeof err) != sizeof err) _exit(1);
        _exit(0);
    }
    int err = -1;
    if (::read(result[0], &err, sizeof err) != sizeof err) err = -1;
    ::waitpid(child, nullptr, 0);
    ::close(result[0]);
    ::close(result[1]);
    return err;
}

class RealDeviceFilter : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (bpf and cgroup2 writes)";
        const CgroupRoot root = detect_cgroup_root();
        if (root.unified_mount.empty()) GTEST_SKIP() << "no cgroup2 mount";
        manager_ = std::make_unique<V2Manager>(root.unified_mount,
                                               "/tether-unit-devices-" + std::to_string(::getpid()), false,
                                               /*tracking_only=*/true);
        manager_->create();
    }
    void TearDown() override {
        if (manager_) manager_->destroy();
    }
    std::unique_ptr<V2Manager> manager_;
};

TEST_F(RealDeviceFilter, DeniedDeviceCannotBeOpenedAndAnUpdateReplacesTheProgram) {
    UniqueFd dir(::open(manager_->dir().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(dir);
    ASSERT_EQ(open_errno_in_cgroup(manager_->dir(), "/dev/null"), 0) << "no filter yet";

    // podman's config: deny all, then the runtime's defaults minus /dev/null.
    spec::DeviceRule deny_all;
    std::vector<spec::DeviceRule> rules{deny_all};
    for (const auto& rule : default_device_rules())
        if (!(rule.major == 1 && rule.minor == 3)) rules.push_back(rule);
    UniqueFd program = load_device_filter(build_device_filter(rules));
    attach_device_filter(dir.get(), program.get());
    program.reset();  // the attachment keeps the program alive

    EXPECT_EQ(open_errno_in_cgroup(manager_->dir(), "/dev/null"), EPERM);
    EXPECT_EQ(open_errno_in_cgroup(manager_->dir(), "/dev/zero"), 0);

    // The update path: the new program replaces the old one (not stacked,
    // or the old deny would still apply).
    UniqueFd allow_all = load_device_filter(build_device_filter(default_device_rules()));
    attach_device_filter(dir.get(), allow_all.get());
    EXPECT_EQ(open_errno_in_cgroup(manager_->dir(), "/dev/null"), 0);
    EXPECT_EQ(open_errno_in_cgroup(manager_->dir(), "/dev/full"), 0);
}

}  // namespace
}  // namespace tether::cgroups
