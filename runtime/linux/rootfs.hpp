// The container's filesystem, built by the init in its own mount namespace:
//   prepare_rootfs  (before pivot_root): propagation, the rootfs bind, every
//                   config mount resolved inside the rootfs, /dev nodes;
//   enter_rootfs    pivot_root (or MS_MOVE + chroot with --no-pivot);
//   finish_rootfs   (after): masked paths, read-only paths, read-only root.
#pragma once

#include <string>
#include <vector>

#include "runtime/core/unique_fd.hpp"
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
    std::string console_path;  // pty slave to bind at /dev/console ("" = none)
};

// Returns the rootfs bound on itself (the mount that becomes `/`).
UniqueFd prepare_rootfs(const spec::Config& config, const RootfsContext& context);
void enter_rootfs(const RootfsContext& context, int bound_rootfs, bool no_pivot);
void finish_rootfs(const spec::Config& config);

}  // namespace tether::os
