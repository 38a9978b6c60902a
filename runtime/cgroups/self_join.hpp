// How a new process (the container init, an exec'd process) gets into the
// container's cgroups without being moved there by another process.
//
// Moving another process (its pid written to cgroup.procs) takes the kernel's
// global cgroup_threadgroup_rwsem for writing, and the first writer after a
// quiet spell waits for an RCU grace period: 6-9 ms on the hybrid host we
// measure on, once per create and exec. Two ways around it, both prepared
// here by the runtime before the clone:
//   - cgroup2: the process is born in its cgroup (clone3 CLONE_INTO_CGROUP
//     with cgroup2_dir), as crun does;
//   - cgroup v1 (no such flag): the process moves itself, as its first step,
//     by writing "0" to each hierarchy's `tasks` file. A single thread
//     moving itself skips the global lock (cgroup_procs_write_start: the
//     thread is `current`, it cannot exit or exec under the move): 0.1 ms
//     for 8 hierarchies after the same quiet spell. The init and the exec
//     process are single-threaded, so `tasks` moves the whole process.
// The v1 files are opened by the runtime: the kernel checks the opener's
// credentials (file->f_cred), so a child that is already in a new user
// namespace may still write, and a file that cannot be opened fails (or,
// rootless, is skipped with a warning) before anything is cloned.
#pragma once

#include <string>
#include <vector>

#include "runtime/core/unique_fd.hpp"

namespace tether::cgroups {

struct SelfJoin {
    UniqueFd cgroup2_dir;                  // for CLONE_INTO_CGROUP; empty when there is none
    std::vector<UniqueFd> tasks;           // v1 `tasks` files, opened for writing by the runtime
    std::vector<std::string> tasks_paths;  // the same files' paths, for messages
    // What the parent still does after the clone (CgroupManager::finish_join):
    // nothing; nothing if the child was born in cgroup2_dir (the clone falls
    // back to a plain one on an old kernel); or something (a cgroup.procs
    // write, the systemd driver's scope). Until it is done the child must
    // not start its setup.
    enum class ParentPart { none, none_if_born, some };
    ParentPart parent_part = ParentPart::some;
    // Split create (CgroupManager::create_v1): the v1 cgroups do not exist
    // yet at the clone. The runtime makes them while the child builds its
    // rootfs, opens their tasks files (prepare_self_join) and sends them
    // with `go`; the child joins them then (join_v1_after_go). Until then
    // `tasks` is empty and tasks_paths names the files, in the same order.
    bool v1_after_go = false;
};

// Whether a child cloned with this join (born_in_cgroup2: as the clone
// reported it) must wait for the parent's finish_join.
bool parent_completes_join(const SelfJoin& join, bool born_in_cgroup2);

// In the new process, with the tasks files `go` brought (v1_after_go; in
// tasks_paths' order): writes "0" to each, as join_from_inside does.
// Throws tether::Error naming the file, or when the count is not the one
// expected. Nothing to do otherwise.
void join_v1_after_go(SelfJoin& join, std::vector<UniqueFd> tasks);

// In the new process, before anything else: writes "0" to every tasks file
// (the process moves itself) and closes them. Throws tether::Error naming
// the file. Nothing to do when join is empty.
void join_from_inside(SelfJoin& join);

}  // namespace tether::cgroups
