// The cgroup manager: one interface, one implementation per layout (v1, v2,
// hybrid), as crun's function table in cgroup-internal.h. Callers (the verbs)
// never ask which layout is in use.
//
// Typical use:
//   create:  auto cg = create_cgroup_manager(config.linux_->cgroups_path, id, rootless);
//            cg->create();
//            resources.devices = effective_device_rules(rules, config devices);
//            cg->apply_resources(resources);
//            SelfJoin join = cg->prepare_self_join();   // clone3 with join.cgroup2_dir;
//            in the child: join_from_inside(join);    // then, in the parent:
//            cg->finish_join(init_pid, born_in_cgroup2);
//            state.cgroup_path = cg->saved_path();
//            for (auto& w : cg->warnings()) log::warning(w);
//   later:   auto cg = open_cgroup_manager(state.cgroup_path, state.rootless);
//            cg->kill_all(SIGKILL); cg->destroy();
#pragma once

#include "runtime/cgroups/paths.hpp"

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/cgroups/layout.hpp"
#include "runtime/cgroups/self_join.hpp"
#include "runtime/core/unique_fd.hpp"
#include "spec/config.hpp"
#include "spec/stats.hpp"

namespace tether::cgroups {

// Out-of-memory kills in the container's cgroup, for `events`.
class OomEventSource {
public:
    virtual ~OomEventSource() = default;
    // Becomes readable (poll POLLIN) when something may have happened.
    virtual int fd() const = 0;
    // Blocks until the fd is readable, then returns how many OOM kills
    // happened since the last call (0 when the wakeup was about something
    // else, e.g. another memory.events counter).
    virtual uint64_t wait_for_oom() = 0;
};

class CgroupManager {
public:
    virtual ~CgroupManager() = default;

    virtual CgroupLayout layout() const = 0;
    // The string to store in the state file; open_cgroup_manager(saved_path())
    // finds the same cgroups again.
    virtual std::string saved_path() const = 0;

    // Creates the cgroup in every hierarchy (idempotent). Rootless: a
    // hierarchy where mkdir fails with EACCES/EPERM/EROFS is skipped with a
    // warning, as runc does, never a failure.
    virtual void create() = 0;
    // create() in two parts around the clone, for create_container on v1
    // and hybrid hosts: create_for_clone() makes what the clone needs (the
    // cgroup2 directory for CLONE_INTO_CGROUP; nothing on v1), then the
    // clone, then create_v1() makes the v1 hierarchies while the child
    // builds its rootfs (0.5 ms of mkdir on a hybrid host's 11 hierarchies,
    // no longer before the child starts). prepare_split_join() names the
    // tasks files that do not exist yet; once they do, prepare_self_join()
    // opens them and `go` brings them to the child (self_join.hpp). False
    // (v2, systemd, rootless, where a hierarchy may be skipped): create()
    // does it all.
    virtual bool can_create_v1_after_clone() const { return false; }
    virtual void create_for_clone() { create(); }
    virtual void create_v1() {}
    virtual SelfJoin prepare_split_join() { return prepare_self_join(); }
    // The mount points of the host's v1 hierarchies ("/sys/fs/cgroup/memory"),
    // as this manager found them, for the container's `type: cgroup` mount
    // (rootfs.cpp: one read of /proc/self/mountinfo fewer in the init);
    // nullopt: not known here.
    virtual std::optional<std::vector<std::string>> v1_mount_points() const { return std::nullopt; }
    // Writes pid to cgroup.procs in every hierarchy the cgroup exists in.
    virtual void add_process(pid_t pid) = 0;
    // Before a process is cloned into this cgroup: its cgroup2 directory for
    // CLONE_INTO_CGROUP and the v1 `tasks` files it writes "0" to itself
    // (self_join.hpp says why: no move of another process, no wait for the
    // kernel's global lock). Empty by default: the systemd driver makes its
    // scope with the pid, after the clone.
    virtual SelfJoin prepare_self_join() { return {}; }
    // After the clone, in the parent: what the child could not do itself, as
    // add_process does it. The cgroup2 write when the clone could not use
    // CLONE_INTO_CGROUP (born_in_cgroup2 false: a kernel before 5.7), the
    // systemd scope (the default).
    virtual void finish_join(pid_t pid, bool born_in_cgroup2) {
        (void)born_in_cgroup2;
        add_process(pid);
    }
    // Applies linux.resources (create and `update`). `unified` keys are
    // refused on v1 and hybrid with an error naming the key.
    virtual void apply_resources(const spec::Resources& resources) = 0;

    // Stops every process of the cgroup; returns when the kernel says frozen.
    virtual void freeze() = 0;
    virtual void thaw() = 0;
    virtual bool is_frozen() = 0;

    // Every pid in the cgroup and its sub-cgroups.
    virtual std::vector<pid_t> pids() = 0;
    // Sends signal to every process of the cgroup, including ones that
    // double-forked away from the init.
    virtual void kill_all(int signal) = 0;
    // Removes the cgroup (sub-cgroups first) from every hierarchy; a cgroup
    // that is already gone is fine.
    virtual void destroy() = 0;
    // True when the cgroup directory exists in at least one hierarchy.
    virtual bool exists() const = 0;

    virtual spec::CgroupStats stats() = 0;
    // Throws tether::Error when the memory controller is not available.
    virtual std::unique_ptr<OomEventSource> oom_events() = 0;

    // Warnings gathered so far (skipped hierarchies, ignored settings); the
    // caller forwards them to the log.
    const std::vector<std::string>& warnings() const { return warnings_; }

protected:
    void warn(const std::string& message) { warnings_.push_back(message); }
    std::vector<std::string> warnings_;
};

// A manager for a new container. cgroups_path_from_config may be empty
// (runc's default: the container id, relative), relative (below the runtime's
// own cgroup) or absolute; ".." escaping the root is refused. The cgroups are
// not created until create() is called.
std::unique_ptr<CgroupManager> create_cgroup_manager(const std::string& cgroups_path_from_config,
                                                     const std::string& container_id, bool rootless);
std::unique_ptr<CgroupManager> create_cgroup_manager(const CgroupRoot& root,
                                                     const std::string& cgroups_path_from_config,
                                                     const std::string& container_id, bool rootless);

// The systemd driver (--systemd-cgroup): cgroups_path_from_config is
// "slice:prefix:name" (empty: "system.slice:tether:<id>"); the container's
// cgroup is the transient scope unit "<prefix>-<name>.scope", started by
// add_process(); org.systemd.property.* annotations become unit properties.
// Throws tether::Error naming linux.cgroupsPath or the annotation for bad
// input, before anything exists.
std::unique_ptr<CgroupManager> create_systemd_cgroup_manager(const std::string& cgroups_path_from_config,
                                                             const std::string& container_id,
                                                             const std::map<std::string, std::string>& annotations);

// The container's cgroup in each hierarchy, from its saved_path() (either
// driver: decode_saved_path's result, or the systemd scope's one path).
HierarchyPaths saved_hierarchy_paths(const std::string& saved_path);

// A manager for an existing container from its saved_path() (either driver).
std::unique_ptr<CgroupManager> open_cgroup_manager(const std::string& saved_path, bool rootless);
std::unique_ptr<CgroupManager> open_cgroup_manager(const CgroupRoot& root, const std::string& saved_path,
                                                   bool rootless);

// True when this process runs in a user namespace other than the initial
// one (its uid_map is not the identity over the whole range): cgroup writes
// may then fail with EPERM even for uid 0.
bool running_in_user_namespace();

}  // namespace tether::cgroups
