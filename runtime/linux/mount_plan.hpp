// The container's mounts as data: what to mount, with which flags, in which
// order, and what to refuse (plan_mounts, pure), then a thin apply step in
// rootfs.cpp that only turns each step into syscalls. Like plan_landlock /
// apply_landlock (runtime/sandbox/landlock.hpp): the decisions are unit-tested
// without root (tests/unit/runtime/mount_plan_test.cpp).
//
//   create (parent):  plan_mounts(config, inputs) -> require_mount_plan(plan)
//                     before anything exists, so bad input leaves nothing;
//   init:             prepare_rootfs / enter_rootfs / finish_rootfs apply it.
//
// Facts only the running system knows (is this destination a symlink in the
// rootfs? is /dev/null the 1:3 device?) are checked at apply time; the plan
// says where they must be checked.
#pragma once

#include <string>
#include <vector>

#include "spec/config.hpp"

namespace tether::os {

struct MountPlanInputs {
    std::string bundle;                 // absolute: relative bind sources are taken from it
    bool new_mount_namespace = true;    // false: the container shares ours
    bool new_user_namespace = false;    // mknod refused there; sysfs needs an owned netns
    bool own_network_namespace = false;
    bool own_cgroup_namespace = false;
    bool host_cgroup_unified = true;    // /sys/fs/cgroup is cgroup2
};

enum class MountAction {
    bind,             // MS_BIND (| MS_REC) of `source`, then a remount with `flags`
    filesystem,       // a new instance of `type` (proc, tmpfs, devpts, mqueue, ...)
    cgroup2,          // cgroup2, or the container's own subtree bound when that is refused
    cgroup_v1,        // a tmpfs with each v1 hierarchy's cgroup of the container bound in
    sysfs_from_host,  // /sys bound (user namespace without its own network namespace)
};

struct MountStep {
    size_t index = 0;          // in config.mounts, for error messages ("mounts[3]")
    MountAction action = MountAction::filesystem;
    std::string source;        // absolute (bundle-relative sources made absolute)
    std::string destination;   // inside the container
    std::string type;
    unsigned long flags = 0;   // mount(2) flags (MS_RDONLY, MS_NOSUID, ...), never MS_REMOUNT
    unsigned long clear = 0;   // flags an option explicitly turned off
    std::string data;          // filesystem options
    bool recursive = false;    // rbind
    unsigned long propagation = 0;  // applied after the mount (MS_SHARED | MS_REC, ...)
    // The destination must not be a symlink in the rootfs: procfs or sysfs
    // mounted over a planted symlink (CVE-2019-19921), a /dev symlinked to a
    // host folder (CVE-2026-41579 class).
    bool refuse_symlink = false;
    bool is_directory_source = true;  // decided at apply time for binds (stat)
};

struct MountPlan {
    bool new_mount_namespace = true;
    // Applied to "/" of the init's mount namespace, in order, before
    // anything is mounted: first MS_SLAVE | MS_REC, so that nothing the init
    // mounts propagates back to the host, then a private or slave
    // rootfsPropagation (the rootfs bind inherits it).
    std::vector<unsigned long> host_propagation;
    std::vector<MountStep> mounts;  // in config order (runtime-spec)
    // /dev nodes and symlinks are made by the runtime unless /dev is bound
    // from elsewhere or there is no mount namespace (they would be written
    // into the bundle on disk).
    bool create_devices = true;
    bool bind_devices = false;  // a user namespace may not mknod: bind the host's nodes
    // After pivot_root, in this order: masks, read-only paths, the
    // rootfsPropagation of "/", a read-only root. A mask inside a read-only
    // path survives its recursive bind; the propagation comes after the last
    // bind (an unbindable "/" could not be bound again).
    std::vector<std::string> masked_paths;
    std::vector<std::string> readonly_paths;
    unsigned long root_propagation = 0;  // 0: leave "/" as prepared
    bool readonly_root = false;
    // One sentence per refused field, naming it; empty when the plan can run.
    std::vector<std::string> refusals;
};

// Pure: decides the plan from the config and the inputs.
MountPlan plan_mounts(const spec::Config& config, const MountPlanInputs& inputs);

// Throws tether::Error with the first refusal. Call it before anything exists.
void require_mount_plan(const MountPlan& plan);

}  // namespace tether::os
