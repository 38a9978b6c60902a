// The container's filesystem, built by the init in its own mount namespace:
// It applies a MountPlan (mount_plan.hpp: what to mount is decided there):
//   prepare_rootfs  (before pivot_root): propagation, the rootfs bind, every
//                   config mount resolved inside the rootfs, /dev nodes;
//   enter_rootfs    pivot_root (or MS_MOVE + chroot with --no-pivot);
//   finish_rootfs   (after): masked paths, read-only paths, rootfsPropagation,
//                   read-only root.
// Without a mount namespace only enter_rootfs_without_mount_namespace runs.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "runtime/core/unique_fd.hpp"
#include "runtime/linux/mount_plan.hpp"
#include "spec/config.hpp"

namespace tether::os {

struct RootfsContext {
    std::string rootfs;        // absolute host path of the rootfs
    // The rootfs in the init's own mount namespace, found with the runtime's
    // privileges (create clones the init inside it); -1: resolve `rootfs`.
    // The mapped root of a user namespace may not search the bundle's parent.
    int rootfs_fd = -1;
    std::string bundle;        // absolute bundle dir, for relative mount sources
    bool new_user_namespace = false;  // mknod is not allowed there: devices are bind-mounted
    bool own_network_namespace = false;  // sysfs can only be mounted with one
    bool own_cgroup_namespace = false;
    std::string cgroup_path;   // the container's cgroup, for `type: cgroup` mounts on v1
    // The mount points of the host's v1 hierarchies, as create's cgroup
    // manager found them; nullptr: read /proc/self/mountinfo.
    const std::vector<std::string>* host_v1_mounts = nullptr;
    // Bind sources opened by create with the runtime's privileges
    // (bind_sources.hpp), by index in config.mounts; -1: resolve the source
    // path here. nullptr: none.
    const std::vector<int>* bind_sources = nullptr;
    // Called before the first sysfs mount (it shows the network devices of
    // the mounter's network namespace) and the first `type: cgroup` mount on
    // a v1 or hybrid host (its sources are the container's cgroups): the
    // init waits there for a network namespace and cgroups create made
    // after its clone (`go`). Empty: nothing to wait for.
    std::function<void()> before_mount_needing_go;
};

// Returns the rootfs bound on itself (the mount that becomes `/`).
UniqueFd prepare_rootfs(const spec::Config& config, const MountPlan& plan, const RootfsContext& context);
void enter_rootfs(const RootfsContext& context, int bound_rootfs, bool no_pivot);
void enter_rootfs_without_mount_namespace(const RootfsContext& context);
void finish_rootfs(const MountPlan& plan);

// /sys/fs/cgroup is a cgroup2 mount (MountPlanInputs::host_cgroup_unified).
bool host_cgroup_is_unified();

}  // namespace tether::os
