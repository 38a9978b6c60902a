// cgroup v2 lifecycle: create, join, freeze, kill, destroy, stats.
#include <fcntl.h>
#include <signal.h>

#include <sstream>
#include <thread>

#include "runtime/cgroups/cgroup_fs.hpp"
#include "runtime/cgroups/hugetlb_sizes.hpp"
#include "runtime/cgroups/oom_events.hpp"
#include "runtime/cgroups/v2_manager.hpp"
#include "runtime/core/error.hpp"

namespace tether::cgroups {

namespace {

bool is_permission_error(int err) { return err == EACCES || err == EPERM || err == EROFS; }

std::set<std::string> words_of(const std::optional<std::string>& text) {
    std::set<std::string> words;
    if (!text) return words;
    std::istringstream stream(*text);
    for (std::string word; stream >> word;) words.insert(word);
    return words;
}

}  // namespace

V2Manager::V2Manager(const std::string& unified_mount, const std::string& cgroup_path, bool rootless,
                     bool tracking_only)
    : mount_(unified_mount),
      path_(cgroup_path),
      dir_(unified_mount + (cgroup_path == "/" ? "" : cgroup_path)),
      rootless_(rootless),
      tracking_only_(tracking_only) {}

std::set<std::string> V2Manager::controllers() const {
    return words_of(read_file_if_exists(dir_, "cgroup.controllers"));
}

void V2Manager::require_available(const std::string& setting) const {
    if (!available_)
        throw Error("cgroups: cannot set " + setting + ": the container could not create its cgroup " + dir_);
}

void V2Manager::enable_controllers_along_path() {
    // A cgroup only offers the controllers its parent enabled in
    // cgroup.subtree_control; enable every available one from the root down.
    // One controller at a time, ignoring refusals: a parent with processes
    // of its own (or a threaded subtree) cannot delegate some controllers,
    // and a limit that needs one fails later with a precise error.
    std::string current = mount_;
    size_t position = 0;
    std::vector<std::string> levels = {mount_};
    while (position < path_.size()) {
        size_t next = path_.find('/', position + 1);
        if (next == std::string::npos) next = path_.size();
        const std::string part = path_.substr(position + 1, next - position - 1);
        position = next;
        if (part.empty()) continue;
        current = join_path(current, part);
        levels.push_back(current);
    }
    levels.pop_back();  // the leaf enables nothing: processes live there
    for (const auto& level : levels) {
        const auto enabled = words_of(read_file_if_exists(level, "cgroup.subtree_control"));
        for (const auto& controller : words_of(read_file_if_exists(level, "cgroup.controllers")))
            if (!enabled.count(controller)) try_write_file(level, "cgroup.subtree_control", "+" + controller);
    }
}

void V2Manager::create() {
    const int err = make_directories(dir_);
    if (err != 0) {
        if (rootless_ && is_permission_error(err)) {
            warn("cgroups: rootless: cannot create " + dir_ + " (" + std::strerror(err) +
                 "); the container runs without its own cgroup");
            available_ = false;
            return;
        }
        throw Error("cgroups: mkdir " + dir_, err);
    }
    if (!tracking_only_) enable_controllers_along_path();
}

void V2Manager::add_process(pid_t pid) {
    if (!available_) return;
    const int err = try_write_file(dir_, "cgroup.procs", std::to_string(pid));
    if (err == 0) return;
    if (rootless_ && (is_permission_error(err) || err == ENOENT)) {
        warn("cgroups: rootless: cannot join " + dir_ + " (" + std::strerror(err) + ")");
        available_ = false;
        return;
    }
    throw Error("cgroups: write " + std::to_string(pid) + " to " + join_path(dir_, "cgroup.procs"), err);
}

SelfJoin V2Manager::prepare_self_join() {
    SelfJoin join;
    join.parent_part = SelfJoin::ParentPart::none;  // add_process does nothing either
    if (!available_) return join;
    // An fd that fails to open only costs the fast path: finish_join then
    // writes cgroup.procs and reports a real error there.
    join.cgroup2_dir.reset(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    join.parent_part = join.cgroup2_dir ? SelfJoin::ParentPart::none_if_born : SelfJoin::ParentPart::some;
    return join;
}

void V2Manager::freeze() {
    require_available("the freezer state");
    write_file(dir_, "cgroup.freeze", "1");
    // The write only starts freezing; cgroup.events says when every task
    // has stopped.
    for (int attempt = 0; attempt < 2000; ++attempt) {
        if (is_frozen()) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(attempt < 10 ? 1 : 10));
    }
    try_write_file(dir_, "cgroup.freeze", "0");
    throw Error("cgroups: " + join_path(dir_, "cgroup.events") + " never reported \"frozen 1\"");
}

void V2Manager::thaw() {
    require_available("the freezer state");
    write_file(dir_, "cgroup.freeze", "0");
}

bool V2Manager::is_frozen() {
    auto events = read_file_if_exists(dir_, "cgroup.events");
    if (!events) return false;
    std::istringstream lines(*events);
    for (std::string line; std::getline(lines, line);)
        if (trim(line) == "frozen 1") return true;
    return false;
}

std::vector<pid_t> V2Manager::pids() { return read_pids_recursive(dir_); }

void V2Manager::kill_all(int signal) {
    // cgroup.kill (5.14+) kills the whole subtree atomically, even processes
    // forking while we look; only SIGKILL can be sent that way.
    if (signal == SIGKILL && path_exists(join_path(dir_, "cgroup.kill"))) {
        write_file(dir_, "cgroup.kill", "1");
        return;
    }
    const bool can_freeze = path_exists(join_path(dir_, "cgroup.freeze"));
    if (can_freeze) freeze();
    for (pid_t pid : pids()) {
        if (::kill(pid, signal) != 0 && errno != ESRCH) {
            const int err = errno;
            if (can_freeze) try_write_file(dir_, "cgroup.freeze", "0");
            throw Error("cgroups: kill(" + std::to_string(pid) + ", " + std::to_string(signal) + ")", err);
        }
    }
    if (can_freeze) thaw();
}

void V2Manager::destroy() { remove_cgroup_tree(dir_); }

bool V2Manager::exists() const { return path_exists(dir_); }

spec::CgroupStats V2Manager::stats() {
    spec::CgroupStats stats;
    auto read_or_zero = [&](const std::string& name) -> uint64_t {
        return path_exists(join_path(dir_, name)) ? read_uint(dir_, name) : 0;
    };
    if (path_exists(join_path(dir_, "cpu.stat"))) {
        const auto values = read_key_values(dir_, "cpu.stat");
        auto get = [&](const char* key) {
            auto it = values.find(key);
            return it == values.end() ? 0 : it->second;
        };
        // v2 counts microseconds; runc reports nanoseconds.
        stats.cpu.usage.total = get("usage_usec") * 1000;
        stats.cpu.usage.user = get("user_usec") * 1000;
        stats.cpu.usage.kernel = get("system_usec") * 1000;
        stats.cpu.throttling.periods = get("nr_periods");
        stats.cpu.throttling.throttled_periods = get("nr_throttled");
        stats.cpu.throttling.throttled_time = get("throttled_usec") * 1000;
    }
    stats.memory.usage.usage = read_or_zero("memory.current");
    stats.memory.usage.limit = read_or_zero("memory.max");
    stats.memory.usage.max = read_or_zero("memory.peak");
    if (path_exists(join_path(dir_, "memory.events")))
        stats.memory.usage.failcnt = read_key_values(dir_, "memory.events")["max"];
    stats.memory.swap.usage = read_or_zero("memory.swap.current");
    stats.memory.swap.limit = read_or_zero("memory.swap.max");
    if (path_exists(join_path(dir_, "memory.stat"))) {
        stats.memory.raw = read_key_values(dir_, "memory.stat");
        stats.memory.cache = stats.memory.raw["file"];
    }
    stats.pids.current = read_or_zero("pids.current");
    const uint64_t pid_limit = read_or_zero("pids.max");
    stats.pids.limit = pid_limit == UINT64_MAX ? 0 : pid_limit;
    for (const auto& size : hugetlb_page_sizes_in(dir_, ".max")) {
        spec::HugetlbStats entry;
        entry.usage = read_or_zero("hugetlb." + size + ".current");
        if (path_exists(join_path(dir_, "hugetlb." + size + ".events")))
            entry.failcnt = read_key_values(dir_, "hugetlb." + size + ".events")["max"];
        stats.hugetlb[size] = entry;
    }
    return stats;
}

std::unique_ptr<OomEventSource> V2Manager::oom_events() {
    if (!path_exists(join_path(dir_, "memory.events")))
        throw Error("cgroups: OOM notifications need the memory controller in " + dir_);
    return open_v2_oom_events(dir_);
}

}  // namespace tether::cgroups
