// Against this machine's real cgroup hierarchy (root only; skipped
// otherwise): the container path is relative, so it lands below the test's
// own cgroup in every hierarchy, and is removed at the end of each test.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "runtime/cgroups/cgroup_fs.hpp"
#include "runtime/cgroups/manager.hpp"
#include "runtime/cgroups/v2_manager.hpp"
#include "runtime/core/error.hpp"

namespace tether::cgroups {
namespace {

// A forked child that is killed and reaped whatever the test does.
class Child {
public:
    template <typename Fn>
    explicit Child(Fn body) {
        pid_ = ::fork();
        if (pid_ == 0) {
            body();
            _exit(0);
        }
    }
    ~Child() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    pid_t pid() const { return pid_; }
    int wait() {
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return status;
    }

private:
    pid_t pid_ = -1;
};

class RealCgroups : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root to create cgroups";
        try {
            root_ = detect_cgroup_root();
            root_.layout();
        } catch (const Error& error) {
            GTEST_SKIP() << error.what();
        }
        name_ = "tether-unit-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name();
        manager_ = create_cgroup_manager(root_, name_, name_, false);
        manager_->create();
    }
    void TearDown() override {
        if (!manager_) return;
        try {
            manager_->thaw();
        } catch (const Error&) {
        }
        try {
            manager_->kill_all(SIGKILL);
            manager_->destroy();
        } catch (const Error& error) {
            ADD_FAILURE() << "cleanup: " << error.what();
        }
    }
    CgroupRoot root_;
    std::string name_;
    std::unique_ptr<CgroupManager> manager_;
};

TEST_F(RealCgroups, MemoryLimitIsWrittenAndReadBack) {
    spec::Resources resources;
    resources.memory = spec::MemoryResources{};
    resources.memory->limit = 64 << 20;
    resources.pids = spec::PidsResources{100};
    manager_->apply_resources(resources);
    const auto stats = manager_->stats();
    EXPECT_EQ(stats.memory.usage.limit, uint64_t(64) << 20);
    EXPECT_EQ(stats.pids.limit, 100u);
}

TEST_F(RealCgroups, PlacedChildIsListedFrozenAndThawed) {
    Child child([] {
        for (;;) ::pause();
    });
    manager_->add_process(child.pid());
    const auto pids = manager_->pids();
    EXPECT_NE(std::find(pids.begin(), pids.end(), child.pid()), pids.end());
    EXPECT_FALSE(manager_->is_frozen());
    // A later process (pause, resume, kill, delete) finds it by saved path.
    auto later = open_cgroup_manager(root_, manager_->saved_path(), false);
    later->freeze();
    EXPECT_TRUE(manager_->is_frozen());
    later->thaw();
    EXPECT_FALSE(manager_->is_frozen());
    EXPECT_EQ(manager_->stats().pids.current, 1u);
}

// The child joins by itself (self_join.hpp): it writes "0" to the v1 tasks
// files the parent opened, and the kernel lists it in every hierarchy.
TEST_F(RealCgroups, ChildThatJoinsItselfIsInEveryHierarchy) {
    SelfJoin join = manager_->prepare_self_join();
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    Child child([&] {
        join_from_inside(join);
        (void)!::write(ready[1], "x", 1);
        for (;;) ::pause();
    });
    ::close(ready[1]);
    join = SelfJoin();
    char byte;
    ASSERT_EQ(::read(ready[0], &byte, 1), 1);
    ::close(ready[0]);
    manager_->finish_join(child.pid(), false);  // a plain fork: not born in cgroup2
    const auto pids = manager_->pids();
    EXPECT_NE(std::find(pids.begin(), pids.end(), child.pid()), pids.end());
    // Every line of /proc/<pid>/cgroup, v1 ones and the cgroup2 one, names ours.
    std::string cgroups = read_file("/proc/" + std::to_string(child.pid()), "cgroup");
    size_t lines = 0;
    for (size_t start = 0; start < cgroups.size();) {
        size_t end = cgroups.find('\n', start);
        if (end == std::string::npos) end = cgroups.size();
        const std::string line = cgroups.substr(start, end - start);
        start = end + 1;
        if (line.empty()) continue;
        ++lines;
        EXPECT_NE(line.find("/" + name_), std::string::npos) << line;
    }
    EXPECT_GT(lines, 0u);
}

TEST_F(RealCgroups, KillAllReachesADoubleForkedGrandchildAndDestroyLeavesNothing) {
    // As subreaper we inherit the grandchild and can see how it died.
    ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    int go[2], report[2];
    ASSERT_EQ(::pipe(go), 0);
    ASSERT_EQ(::pipe(report), 0);
    Child child([&] {
        char byte;
        if (::read(go[0], &byte, 1) != 1) _exit(1);
        const pid_t grandchild = ::fork();
        if (grandchild == 0) {
            ::setsid();  // fully detached, as a daemon would be
            for (;;) ::pause();
        }
        if (::write(report[1], &grandchild, sizeof grandchild) != sizeof grandchild) _exit(1);
        _exit(0);  // the grandchild is now an orphan
    });
    manager_->add_process(child.pid());
    ASSERT_EQ(::write(go[1], "x", 1), 1);
    pid_t grandchild = 0;
    ASSERT_EQ(::read(report[0], &grandchild, sizeof grandchild), static_cast<ssize_t>(sizeof grandchild));
    EXPECT_EQ(child.wait(), 0);
    for (int fd : {go[0], go[1], report[0], report[1]}) ::close(fd);

    auto later = open_cgroup_manager(root_, manager_->saved_path(), false);
    later->kill_all(SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(grandchild, &status, 0), grandchild);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    ::prctl(PR_SET_CHILD_SUBREAPER, 0);

    later->destroy();
    EXPECT_FALSE(later->exists());
    EXPECT_FALSE(open_cgroup_manager(root_, manager_->saved_path(), false)->exists());
}

TEST_F(RealCgroups, OomKillIsReported) {
    if (manager_->layout() == CgroupLayout::unified && !path_exists("/sys/fs/cgroup/memory.events"))
        GTEST_SKIP() << "no memory controller";
    spec::Resources resources;
    resources.memory = spec::MemoryResources{};
    resources.memory->limit = 16 << 20;
    resources.memory->swap = 16 << 20;  // no swapping out of the OOM
    try {
        manager_->apply_resources(resources);
    } catch (const Error& error) {
        // Without swap accounting memsw does not exist: the limit alone does.
        resources.memory->swap.reset();
        manager_->apply_resources(resources);
    }
    auto events = manager_->oom_events();
    int go[2];
    ASSERT_EQ(::pipe(go), 0);
    Child child([&] {
        char byte;
        if (::read(go[0], &byte, 1) != 1) _exit(1);
        const size_t size = 256 << 20;
        void* memory = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (memory == MAP_FAILED) _exit(2);
        std::memset(memory, 1, size);
        _exit(3);  // not reached when the OOM killer does its job
    });
    manager_->add_process(child.pid());
    ASSERT_EQ(::write(go[1], "x", 1), 1);
    const int status = child.wait();
    ::close(go[0]);
    ::close(go[1]);
    ASSERT_TRUE(WIFSIGNALED(status)) << "exit status " << WEXITSTATUS(status);
    EXPECT_EQ(WTERMSIG(status), SIGKILL);
    // Not a timing assertion: a bound so a broken notification cannot hang
    // the suite. The event was raised before the child died.
    pollfd pfd{events->fd(), POLLIN, 0};
    ASSERT_EQ(::poll(&pfd, 1, 10000), 1) << "no OOM notification";
    EXPECT_GE(events->wait_for_oom(), 1u);
}

// The cgroup2 mount of a hybrid host has no controllers, but cgroup.kill
// and cgroup.freeze are core files: the tracking cgroup can do both.
class RealUnifiedTracking : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root";
        root_ = detect_cgroup_root();
        if (root_.unified_mount.empty()) GTEST_SKIP() << "no cgroup2 mount";
        manager_ = std::make_unique<V2Manager>(root_.unified_mount, "/tether-unit-v2-" + std::to_string(::getpid()),
                                               false, /*tracking_only=*/true);
        manager_->create();
    }
    void TearDown() override {
        if (!manager_ || !manager_->exists()) return;
        manager_->thaw();
        manager_->kill_all(SIGKILL);
        manager_->destroy();
    }
    CgroupRoot root_;
    std::unique_ptr<V2Manager> manager_;
};

TEST_F(RealUnifiedTracking, FreezeThawAndCgroupKill) {
    Child child([] {
        for (;;) ::pause();
    });
    manager_->add_process(child.pid());
    manager_->freeze();
    EXPECT_TRUE(manager_->is_frozen());
    manager_->thaw();
    EXPECT_FALSE(manager_->is_frozen());
    manager_->kill_all(SIGKILL);
    const int status = child.wait();
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    manager_->destroy();
    EXPECT_FALSE(manager_->exists());
}

TEST_F(RealUnifiedTracking, KillWithAnotherSignalFreezesSignalsAndThaws) {
    Child child([] {
        for (;;) ::pause();
    });
    manager_->add_process(child.pid());
    manager_->kill_all(SIGTERM);
    const int status = child.wait();
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    EXPECT_FALSE(manager_->is_frozen());
}

}  // namespace
}  // namespace tether::cgroups
