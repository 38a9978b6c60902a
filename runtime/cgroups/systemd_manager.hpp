// The systemd driver (--systemd-cgroup): the container's cgroup is a
// transient scope unit, as runc and crun make it. Internal to runtime/cgroups;
// callers use manager.hpp.
//
// systemd creates the cgroup and owns the limits it has properties for;
// everything else (freezer, stats, pids, kill, and every limit again, as runc
// does, so that what systemd has no property for is applied too) is the
// cgroupfs manager of the same layout, pointed at the scope's folder.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/cgroups/manager.hpp"
#include "runtime/cgroups/systemd_bus.hpp"
#include "runtime/cgroups/systemd_properties.hpp"

namespace tether::cgroups {

class SystemdManager : public CgroupManager {
public:
    // A container not created yet: the unit starts in add_process, when its
    // first pid exists (a scope cannot start empty). annotations: the
    // org.systemd.property.* ones become unit properties.
    SystemdManager(const CgroupRoot& root, std::string unit, std::string slice, std::string cgroup_path,
                   std::vector<UnitProperty> extra_properties);
    // An existing container, from its saved path.
    SystemdManager(const CgroupRoot& root, std::string unit, std::string cgroup_path);

    CgroupLayout layout() const override { return fs_->layout(); }
    // "systemd:<unit>:<cgroup path>".
    std::string saved_path() const override;
    void create() override;
    void add_process(pid_t pid) override;
    void apply_resources(const spec::Resources& resources) override;
    void freeze() override { fs_->freeze(); }
    void thaw() override { fs_->thaw(); }
    bool is_frozen() override { return fs_->is_frozen(); }
    std::vector<pid_t> pids() override { return fs_->pids(); }
    void kill_all(int signal) override { fs_->kill_all(signal); }
    void destroy() override;
    bool exists() const override { return fs_->exists(); }
    spec::CgroupStats stats() override { return fs_->stats(); }
    std::unique_ptr<OomEventSource> oom_events() override { return fs_->oom_events(); }

private:
    SystemdBus& bus();
    std::vector<UnitProperty> start_properties(pid_t pid) const;
    void forward_warnings();

    CgroupRoot root_;
    std::string unit_;
    std::string slice_;
    std::string cgroup_path_;
    std::vector<UnitProperty> extra_properties_;
    std::unique_ptr<CgroupManager> fs_;
    std::unique_ptr<SystemdBus> bus_;
    bool started_;
    std::optional<spec::Resources> pending_;
};

// "systemd:<unit>:<path>" saved paths.
bool is_systemd_saved_path(const std::string& saved);

}  // namespace tether::cgroups
