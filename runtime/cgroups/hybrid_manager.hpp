// Hybrid layout: a V1Manager for everything that matters plus a tracking-only
// V2Manager on the controller-less cgroup2 mount. Internal to runtime/cgroups.
#pragma once

#include <functional>
#include <vector>

#include "runtime/cgroups/v1_manager.hpp"
#include "runtime/cgroups/v2_manager.hpp"

namespace tether::cgroups {

class HybridManager : public CgroupManager {
public:
    // paths: v1 keys (or "*") plus "unified" (or "*") -> cgroup path.
    HybridManager(const CgroupRoot& root, const HierarchyPaths& paths, bool rootless);

    CgroupLayout layout() const override { return CgroupLayout::hybrid; }
    std::string saved_path() const override;
    void create() override;
    void add_process(pid_t pid) override;
    // The v1 tasks files and the unified hierarchy's directory.
    SelfJoin prepare_self_join() override;
    // Split create: the unified directory before the clone, v1 after it.
    bool can_create_v1_after_clone() const override { return v1_.can_create_v1_after_clone(); }
    void create_for_clone() override;
    void create_v1() override;
    SelfJoin prepare_split_join() override;
    std::optional<std::vector<std::string>> v1_mount_points() const override { return v1_.v1_mount_points(); }
    void finish_join(pid_t pid, bool born_in_cgroup2) override;
    void apply_resources(const spec::Resources& resources) override;
    void freeze() override { v1_.freeze(); }
    void thaw() override { v1_.thaw(); }
    bool is_frozen() override { return v1_.is_frozen(); }
    std::vector<pid_t> pids() override { return v1_.pids(); }
    void kill_all(int signal) override { v1_.kill_all(signal); }
    void destroy() override;
    bool exists() const override { return v1_.exists() || unified_.exists(); }
    spec::CgroupStats stats() override { return v1_.stats(); }
    std::unique_ptr<OomEventSource> oom_events() override { return v1_.oom_events(); }

    const V1Manager& v1() const { return v1_; }
    const V2Manager& unified() const { return unified_; }

private:
    void sync_warnings();
    // A v1 join completed with the unified hierarchy's directory (born there).
    SelfJoin with_unified(SelfJoin v1_join);
    void tracking(const char* what, const std::function<void()>& step);

    V1Manager v1_;
    V2Manager unified_;
    size_t v1_warnings_seen_ = 0;
    size_t unified_warnings_seen_ = 0;
};

}  // namespace tether::cgroups
