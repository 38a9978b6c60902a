// cgroup v1: one directory per mounted controller (co-mounted controllers
// share one). Internal to runtime/cgroups; callers use manager.hpp.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "runtime/cgroups/manager.hpp"
#include "runtime/cgroups/paths.hpp"

namespace tether::cgroups {

class V1Manager : public CgroupManager {
public:
    // paths: hierarchy key -> absolute cgroup path inside that hierarchy,
    // for every key in root.v1_mounts (a "*" entry applies to all of them).
    V1Manager(const CgroupRoot& root, const HierarchyPaths& paths, bool rootless);

    CgroupLayout layout() const override { return CgroupLayout::legacy; }
    std::string saved_path() const override;
    void create() override;
    void add_process(pid_t pid) override;
    // The tasks files of every hierarchy; the child joins them all itself.
    SelfJoin prepare_self_join() override;
    // Split create: nothing before the clone; the tasks files by name.
    bool can_create_v1_after_clone() const override { return !rootless_; }
    void create_for_clone() override {}
    void create_v1() override { create(); }
    SelfJoin prepare_split_join() override;
    std::optional<std::vector<std::string>> v1_mount_points() const override;
    void finish_join(pid_t, bool) override {}
    void apply_resources(const spec::Resources& resources) override;
    void freeze() override;
    void thaw() override;
    bool is_frozen() override;
    std::vector<pid_t> pids() override;
    void kill_all(int signal) override;
    void destroy() override;
    bool exists() const override;
    spec::CgroupStats stats() override;
    std::unique_ptr<OomEventSource> oom_events() override;

    // The cgroup directory for a controller, "" when the controller is not
    // mounted or its cgroup was skipped (rootless).
    std::string dir_of(const std::string& controller) const;
    // Hierarchy key -> cgroup path, for the hierarchies still in use.
    const HierarchyPaths& paths() const { return paths_; }

private:
    // The directory for a controller whose limits were requested; throws
    // tether::Error naming the setting when it is unavailable (as runc does).
    std::string require_dir(const std::string& controller, const std::string& setting) const;
    std::vector<std::string> unique_dirs() const;
    void apply_memory(const spec::MemoryResources& memory);
    void apply_cpu(const spec::CpuResources& cpu);
    void apply_block_io(const spec::BlockIoResources& block_io);
    void apply_devices(const std::vector<spec::DeviceRule>& rules);
    void apply_hugetlb(const std::vector<spec::HugepageLimit>& limits);
    void apply_network(const spec::NetworkResources& network);

    HierarchyPaths paths_;                      // key -> cgroup path in hierarchy
    std::map<std::string, std::string> dirs_;   // key -> mount + path (present hierarchies)
    std::map<std::string, std::string> mounts_; // key -> mount point
    bool rootless_;
};

}  // namespace tether::cgroups
