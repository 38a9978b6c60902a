#include "runtime/cgroups/self_join.hpp"

#include <unistd.h>

#include "runtime/core/error.hpp"

namespace tether::cgroups {

namespace {

void write_zero_to_each(SelfJoin& join) {
    for (size_t i = 0; i < join.tasks.size(); ++i) {
        // "0" is the writer itself: the kernel moves only this thread, and
        // without taking cgroup_threadgroup_rwsem (self_join.hpp).
        if (retry_eintr([&] { return ::write(join.tasks[i].get(), "0", 1); }) != 1)
            throw_errno("cgroups: join " + join.tasks_paths[i] + " (write \"0\")");
        join.tasks[i].reset();
    }
    join.tasks.clear();
}

}  // namespace

void join_from_inside(SelfJoin& join) {
    write_zero_to_each(join);
    join.cgroup2_dir.reset();
}

void join_v1_after_go(SelfJoin& join, std::vector<UniqueFd> tasks) {
    if (!join.v1_after_go) return;
    if (tasks.size() != join.tasks_paths.size())
        throw Error("cgroups: go brought " + std::to_string(tasks.size()) + " tasks files, " +
                    std::to_string(join.tasks_paths.size()) + " expected");
    join.tasks = std::move(tasks);
    join.v1_after_go = false;
    write_zero_to_each(join);
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
