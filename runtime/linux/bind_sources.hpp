// Bind-mount sources opened by `create`, with the runtime's privileges,
// before the init becomes the mapped root of a new user namespace.
//
// As that mapped root the init may not search a 0700 bundle owned by host
// root (or any 0700 directory above a source): the mount failed with EACCES
// where runc, which resolves sources with the host's privileges, succeeds.
// So create clones each bind source here (open_tree(OPEN_TREE_CLONE), a
// detached copy of the mount tree) and the init attaches it with move_mount
// (rootfs.cpp): the source path is never looked up inside the user namespace.
#pragma once

#include <vector>

#include "runtime/core/unique_fd.hpp"
#include "runtime/linux/mount_plan.hpp"

namespace tether::os {

struct BindSources {
    std::vector<UniqueFd> trees;  // owned, by index in config.mounts
    std::vector<int> numbers;     // the same fds as numbers (-1: not opened)
};

// Clones the source of every bind step of `plan`. A source that cannot be
// cloned here (EPERM where the caller is itself in a user namespace without
// the right to, say) is left to the init to resolve by path, as before.
// Throws tether::Error naming mounts[i].source when it does not exist.
BindSources open_bind_sources(const MountPlan& plan, size_t mount_count);

}  // namespace tether::os
