#include "runtime/cgroups/self_join.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "runtime/core/error.hpp"

namespace tether::cgroups {

void join_from_inside(SelfJoin& join) {
    for (size_t i = 0; i < join.tasks.size(); ++i) {
        // "0" is the writer itself: the kernel moves only this thread, and
        // without taking cgroup_threadgroup_rwsem (self_join.hpp).
        if (retry_eintr([&] { return ::write(join.tasks[i].get(), "0", 1); }) != 1)
            throw_errno("cgroups: join " + join.tasks_paths[i] + " (write \"0\")");
        join.tasks[i].reset();
    }
    join.tasks.clear();
    join.cgroup2_dir.reset();
}

void join_v1_after_go(SelfJoin& join) {
    if (!join.v1_after_go) return;
    for (const auto& path : join.tasks_paths) {
        UniqueFd tasks(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
        if (!tasks) throw_errno("cgroups: open " + path + " for writing");
        if (retry_eintr([&] { return ::write(tasks.get(), "0", 1); }) != 1)
            throw_errno("cgroups: join " + path + " (write \"0\")");
    }
    join.v1_after_go = false;
}

bool parent_completes_join(const SelfJoin& join, bool born_in_cgroup2) {
    switch (join.parent_part) {
        case SelfJoin::ParentPart::none: return false;
        case SelfJoin::ParentPart::none_if_born: return !born_in_cgroup2;
        case SelfJoin::ParentPart::some: return true;
    }
    return true;
}

}  // namespace tether::cgroups
