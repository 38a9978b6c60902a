#include "runtime/linux/bind_sources.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/core/error.hpp"

namespace tether::os {

BindSources open_bind_sources(const MountPlan& plan, size_t mount_count) {
    BindSources sources;
    sources.trees.resize(mount_count);
    sources.numbers.assign(mount_count, -1);
    for (const auto& step : plan.mounts) {
        if (step.action != MountAction::bind || step.index >= mount_count) continue;
        unsigned int flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (step.recursive ? AT_RECURSIVE : 0);
        UniqueFd tree(static_cast<int>(::syscall(SYS_open_tree, AT_FDCWD, step.source.c_str(), flags)));
        if (!tree) {
            if (errno == ENOENT || errno == ENOTDIR)
                throw_errno("mounts[" + std::to_string(step.index) + "].source " + step.source);
            continue;
        }
        sources.numbers[step.index] = tree.get();
        sources.trees[step.index] = std::move(tree);
    }
    return sources;
}

}  // namespace tether::os
