// cgroup v2: one directory in the unified hierarchy. Also used, with
// tracking_only, for the cgroup2 mount of a hybrid host, where it holds no
// controllers and only records membership (as runc does). Internal to
// runtime/cgroups; callers use manager.hpp.
#pragma once

#include <set>
#include <string>

#include "runtime/cgroups/manager.hpp"

namespace tether::cgroups {

class V2Manager : public CgroupManager {
public:
    // cgroup_path: absolute path inside the unified hierarchy.
    V2Manager(const std::string& unified_mount, const std::string& cgroup_path, bool rootless,
              bool tracking_only = false);

    CgroupLayout layout() const override { return CgroupLayout::unified; }
    std::string saved_path() const override { return path_; }
    void create() override;
    void add_process(pid_t pid) override;
    SelfJoin prepare_self_join() override;
    void finish_join(pid_t pid, bool born_in_cgroup2) override {
        if (!born_in_cgroup2) add_process(pid);
    }
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

    const std::string& dir() const { return dir_; }
    // False after a rootless create() could not make the directory.
    bool available() const { return available_; }

private:
    std::set<std::string> controllers() const;
    void enable_controllers_along_path();
    void require_available(const std::string& setting) const;
    void apply_memory(const spec::MemoryResources& memory);
    void apply_cpu(const spec::CpuResources& cpu);
    void apply_io(const spec::BlockIoResources& block_io);
    void apply_devices(const std::vector<spec::DeviceRule>& rules);
    void apply_hugetlb(const std::vector<spec::HugepageLimit>& limits);
    void apply_unified(const std::map<std::string, std::string>& unified);

    std::string mount_;
    std::string path_;
    std::string dir_;
    bool rootless_;
    bool tracking_only_;
    bool available_ = true;
};

}  // namespace tether::cgroups
