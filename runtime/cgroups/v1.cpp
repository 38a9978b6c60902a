// cgroup v1 lifecycle: create, join, freeze, kill, destroy.
#include <signal.h>

#include <algorithm>
#include <set>
#include <thread>

#include "runtime/cgroups/cgroup_fs.hpp"
#include "runtime/cgroups/oom_events.hpp"
#include "runtime/cgroups/v1_manager.hpp"
#include "runtime/core/error.hpp"

namespace tether::cgroups {

namespace {

bool is_permission_error(int err) { return err == EACCES || err == EPERM || err == EROFS; }

// A fresh v1 cpuset cgroup has empty cpuset.cpus/mems and refuses tasks;
// copy the parent's values down every level we created (runc's ensureParent).
void init_cpuset_levels(const std::string& mount, const std::string& cgroup_path) {
    std::string parent = mount;
    std::string current = mount;
    size_t position = 0;
    while (position < cgroup_path.size()) {
        size_t next = cgroup_path.find('/', position + 1);
        if (next == std::string::npos) next = cgroup_path.size();
        const std::string part = cgroup_path.substr(position, next - position);
        position = next;
        if (part == "/" || part.empty()) continue;
        current = join_path(current, part[0] == '/' ? part.substr(1) : part);
        for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
            auto mine = read_file_if_exists(current, file);
            if (!mine || !trim(*mine).empty()) continue;
            auto inherited = read_file_if_exists(parent, file);
            if (inherited && !trim(*inherited).empty()) write_file(current, file, trim(*inherited));
        }
        parent = current;
    }
}

}  // namespace

V1Manager::V1Manager(const CgroupRoot& root, const HierarchyPaths& paths, bool rootless)
    : rootless_(rootless) {
    for (const auto& [key, mount] : root.v1_mounts) {
        auto it = paths.find(key);
        if (it == paths.end()) it = paths.find("*");
        if (it == paths.end()) continue;
        paths_[key] = it->second;
        mounts_[key] = mount;
        dirs_[key] = mount + (it->second == "/" ? "" : it->second);
    }
    if (dirs_.empty()) throw Error("cgroups: no cgroup v1 hierarchy to place the container in");
}

std::string V1Manager::saved_path() const { return encode_saved_path(paths_); }

std::string V1Manager::dir_of(const std::string& controller) const {
    auto it = dirs_.find(controller);
    return it == dirs_.end() ? "" : it->second;
}

std::string V1Manager::require_dir(const std::string& controller, const std::string& setting) const {
    const std::string dir = dir_of(controller);
    if (dir.empty()) {
        if (mounts_.count(controller))
            throw Error("cgroups: cannot set " + setting + ": the container could not join or create its " +
                        controller + " cgroup");
        throw Error("cgroups: cannot set " + setting + ": the " + controller +
                    " cgroup controller is not mounted");
    }
    return dir;
}

std::vector<std::string> V1Manager::unique_dirs() const {
    std::set<std::string> seen;
    std::vector<std::string> dirs;
    for (const auto& [key, dir] : dirs_)
        if (seen.insert(dir).second) dirs.push_back(dir);
    return dirs;
}

void V1Manager::create() {
    for (auto it = dirs_.begin(); it != dirs_.end();) {
        const int err = make_directories(it->second);
        if (err == 0) {
            if (it->first == "cpuset") init_cpuset_levels(mounts_[it->first], paths_[it->first]);
            ++it;
            continue;
        }
        if (rootless_ && is_permission_error(err)) {
            warn("cgroups: rootless: cannot create " + it->second + " (" + std::strerror(err) +
                 "); the container will not be in a " + it->first + " cgroup");
            it = dirs_.erase(it);
            continue;
        }
        throw Error("cgroups: mkdir " + it->second, err);
    }
}

void V1Manager::add_process(pid_t pid) {
    for (auto it = dirs_.begin(); it != dirs_.end();) {
        const int err = try_write_file(it->second, "cgroup.procs", std::to_string(pid));
        if (err == 0) {
            ++it;
        } else if (rootless_ && (is_permission_error(err) || err == ENOENT)) {
            warn("cgroups: rootless: cannot join " + it->second + " (" + std::strerror(err) + ")");
            it = dirs_.erase(it);
        } else {
            throw Error("cgroups: write " + std::to_string(pid) + " to " + join_path(it->second, "cgroup.procs"),
                        err);
        }
    }
}

SelfJoin V1Manager::prepare_self_join() {
    SelfJoin join;
    join.parent_part = SelfJoin::ParentPart::none;  // finish_join does nothing
    for (auto it = dirs_.begin(); it != dirs_.end();) {
        UniqueFd tasks = open_control_file(it->second, "tasks");
        const int err = tasks ? 0 : errno;
        if (err == 0) {
            join.tasks.push_back(std::move(tasks));
            join.tasks_paths.push_back(join_path(it->second, "tasks"));
            ++it;
        } else if (rootless_ && (is_permission_error(err) || err == ENOENT)) {
            // As add_process: a hierarchy a rootless container cannot join is skipped.
            warn("cgroups: rootless: cannot join " + it->second + " (" + std::strerror(err) + ")");
            it = dirs_.erase(it);
        } else {
            throw Error("cgroups: open " + join_path(it->second, "tasks") + " for writing", err);
        }
    }
    return join;
}

std::optional<std::vector<std::string>> V1Manager::v1_mount_points() const {
    return distinct_mount_points(mounts_);
}

SelfJoin V1Manager::prepare_split_join() {
    SelfJoin join;
    join.parent_part = SelfJoin::ParentPart::none;
    join.v1_after_go = true;
    for (const auto& [key, dir] : dirs_) join.tasks_paths.push_back(join_path(dir, "tasks"));
    return join;
}

void V1Manager::freeze() {
    const std::string dir = require_dir("freezer", "the freezer state");
    // The kernel may report FREEZING for a while (a task in an uninterruptible
    // sleep); keep asking, as runc does, until it says FROZEN.
    for (int attempt = 0; attempt < 2000; ++attempt) {
        write_file(dir, "freezer.state", "FROZEN");
        if (trim(read_file(dir, "freezer.state")) == "FROZEN") return;
        std::this_thread::sleep_for(std::chrono::milliseconds(attempt < 10 ? 1 : 10));
    }
    // Leave it usable rather than half frozen.
    try_write_file(dir, "freezer.state", "THAWED");
    throw Error("cgroups: " + join_path(dir, "freezer.state") + " did not reach FROZEN");
}

void V1Manager::thaw() {
    write_file(require_dir("freezer", "the freezer state"), "freezer.state", "THAWED");
}

bool V1Manager::is_frozen() {
    const std::string dir = dir_of("freezer");
    if (dir.empty()) return false;
    auto state = read_file_if_exists(dir, "freezer.state");
    return state && trim(*state) == "FROZEN";
}

std::vector<pid_t> V1Manager::pids() {
    // Any hierarchy holds every process; prefer ones every container joins.
    for (const char* key : {"freezer", "pids", "memory", "devices", "cpu"}) {
        const std::string dir = dir_of(key);
        if (!dir.empty()) return read_pids_recursive(dir);
    }
    if (dirs_.empty()) return {};
    return read_pids_recursive(dirs_.begin()->second);
}

void V1Manager::kill_all(int signal) {
    // Freezing first stops processes from forking new ones between reading
    // cgroup.procs and sending the signal; a SIGKILL takes effect on thaw.
    const bool can_freeze = !dir_of("freezer").empty() && path_exists(join_path(dir_of("freezer"), "freezer.state"));
    if (can_freeze) freeze();
    for (pid_t pid : pids()) {
        if (::kill(pid, signal) != 0 && errno != ESRCH) {
            const int err = errno;
            if (can_freeze) try_write_file(dir_of("freezer"), "freezer.state", "THAWED");
            throw Error("cgroups: kill(" + std::to_string(pid) + ", " + std::to_string(signal) + ")", err);
        }
    }
    if (can_freeze) thaw();
}

void V1Manager::destroy() {
    for (const auto& dir : unique_dirs()) remove_cgroup_tree(dir);
}

bool V1Manager::exists() const {
    for (const auto& dir : unique_dirs())
        if (path_exists(dir)) return true;
    return false;
}

std::unique_ptr<OomEventSource> V1Manager::oom_events() {
    return open_v1_oom_events(require_dir("memory", "OOM notifications"));
}

}  // namespace tether::cgroups
