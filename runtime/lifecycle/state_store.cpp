#include "runtime/lifecycle/state_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "runtime/cgroups/manager.hpp"
#include "runtime/core/error.hpp"
#include "runtime/core/fs.hpp"
#include "runtime/lifecycle/created_config.hpp"

namespace tether {

void validate_container_id(const std::string& id) {
    if (id.empty()) throw Error("container id must not be empty");
    if (id.size() > 1024) throw Error("container id is longer than 1024 bytes");
    if (id == "." || id == "..") throw Error("invalid container id \"" + id + "\"");
    // The state root also holds the runtime's own entries (the seccomp program
    // cache, .tether-seccomp-cache): a container must never be able to name one.
    if (id.starts_with(".tether-"))
        throw Error("invalid container id \"" + id + "\": names beginning with .tether- are reserved for the runtime");
    for (unsigned char c : id) {
        if (c == '/' || c < 0x21 || c == 0x7f)
            throw Error("invalid container id \"" + id + "\": only printable characters without '/' are allowed");
    }
}

static void lock_dir(int fd, const std::string& path) {
    if (retry_eintr([&] { return ::flock(fd, LOCK_EX); }) != 0) throw_errno("lock " + path);
}

StateStore::StateStore(std::string root) : root_(fs::absolute_path(root)) {}

ContainerDir StateStore::create(const std::string& id) const {
    validate_container_id(id);
    std::string path = root_ + "/" + id;
    int made = ::mkdir(path.c_str(), 0711);
    if (made != 0 && errno == ENOENT) {
        // Like runc's MkdirAll: containerd and dockerd pass a --root whose
        // parent (<root>/<namespace>) does not exist yet. Only then: the
        // root almost always exists, and one mkdir is what create pays.
        for (size_t slash = root_.find('/', 1); slash != std::string::npos; slash = root_.find('/', slash + 1)) {
            std::string parent = root_.substr(0, slash);
            if (::mkdir(parent.c_str(), 0711) != 0 && errno != EEXIST) throw_errno("create state root " + parent);
        }
        if (::mkdir(root_.c_str(), 0711) != 0 && errno != EEXIST) throw_errno("create state root " + root_);
        made = ::mkdir(path.c_str(), 0711);
    }
    if (made != 0) {
        if (errno == EEXIST) throw Error("container \"" + id + "\" already exists");
        throw_errno("create state directory " + path);
    }
    UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!dir) throw_errno("open " + path);
    lock_dir(dir.get(), path);
    return ContainerDir(root_, id, std::move(dir));
}

std::optional<ContainerDir> StateStore::try_open(const std::string& id) const {
    validate_container_id(id);
    std::string path = root_ + "/" + id;
    UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!dir) {
        if (errno == ENOENT) return std::nullopt;
        throw_errno("open " + path);
    }
    lock_dir(dir.get(), path);
    // Deleted while we waited for the lock?
    struct stat st;
    if (::fstat(dir.get(), &st) != 0 || st.st_nlink == 0) return std::nullopt;
    return ContainerDir(root_, id, std::move(dir));
}

ContainerDir StateStore::open(const std::string& id) const {
    auto dir = try_open(id);
    if (!dir) throw Error("container \"" + id + "\" does not exist");
    return std::move(*dir);
}

std::vector<std::string> StateStore::list_ids() const {
    std::vector<std::string> ids;
    DIR* dir = ::opendir(root_.c_str());
    if (!dir) return ids;
    while (struct dirent* entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        if (name == "." || name == ".." || name[0] == '.') continue;
        if (entry->d_type == DT_DIR || entry->d_type == DT_UNKNOWN) ids.push_back(name);
    }
    ::closedir(dir);
    std::sort(ids.begin(), ids.end());
    return ids;
}

spec::StoredState ContainerDir::load() const {
    std::string text;
    try {
        text = fs::read_file_at(dir_.get(), "state.json");
    } catch (const Error&) {
        // The directory exists but create never finished (or died half-way).
        throw Error("container \"" + id_ + "\" is not fully created (no state.json); use delete --force");
    }
    try {
        return spec::parse_stored_state(text);
    } catch (const std::exception& e) {
        throw Error("container \"" + id_ + "\": corrupt state.json: " + e.what());
    }
}

void ContainerDir::save(const spec::StoredState& state) const {
    fs::write_file_atomic_at(dir_.get(), "state.json", spec::stored_state_to_json(state), 0600);
}

void ContainerDir::save_first(const spec::StoredState& state) const {
    fs::write_new_file_at(dir_.get(), "state.json", spec::stored_state_to_json(state), 0600);
}

bool ContainerDir::has_file(const char* name) const {
    struct stat st;
    return ::fstatat(dir_.get(), name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

void ContainerDir::remove() {
    // What a container that ran leaves: state.json and config.json (start
    // removed the fifos). One unlink each and the rmdir; anything else (a
    // failed create's fifos, a crashed save's temporary file) makes the
    // rmdir fail, and the walk removes it.
    if (dir_) {
        ::unlinkat(dir_.get(), "state.json", 0);
        ::unlinkat(dir_.get(), kCreatedConfigName, 0);
        if (::rmdir(path().c_str()) == 0) return;
    }
    fs::remove_tree(path());
}

const char* status_name(LiveStatus status) {
    switch (status) {
        case LiveStatus::created: return "created";
        case LiveStatus::running: return "running";
        case LiveStatus::paused: return "paused";
        case LiveStatus::stopped: return "stopped";
    }
    return "unknown";
}

// Field 3 (state) and 22 (starttime) of /proc/<pid>/stat; comm may hold spaces
// and parentheses, so parse from the last ')'.
static bool read_stat(pid_t pid, char& state, uint64_t& start_time) {
    std::string text;
    try {
        text = fs::read_file("/proc/" + std::to_string(pid) + "/stat", 4096);
    } catch (const Error&) {
        return false;
    }
    size_t close = text.rfind(')');
    if (close == std::string::npos || close + 2 >= text.size()) return false;
    state = text[close + 2];
    size_t pos = close + 2;
    for (int field = 3; field < 22; ++field) {
        pos = text.find(' ', pos);
        if (pos == std::string::npos) return false;
        ++pos;
    }
    start_time = std::strtoull(text.c_str() + pos, nullptr, 10);
    return true;
}

uint64_t process_start_time(pid_t pid) {
    char state;
    uint64_t start = 0;
    return read_stat(pid, state, start) ? start : 0;
}

bool process_is_alive(pid_t pid, uint64_t start_time) {
    if (pid <= 0) return false;
    char state;
    uint64_t start = 0;
    if (!read_stat(pid, state, start)) return false;
    if (start_time && start != start_time) return false;  // the pid was reused
    return state != 'Z' && state != 'X';
}

LiveStatus live_status(const ContainerDir& dir, const spec::StoredState& state) {
    if (!process_is_alive(state.oci.pid, state.init_start_time)) return LiveStatus::stopped;
    if (dir.has_file("exec.fifo")) return LiveStatus::created;
    if (!state.cgroup_path.empty()) {
        auto manager = cgroups::open_cgroup_manager(state.cgroup_path, state.rootless);
        if (manager && manager->is_frozen()) return LiveStatus::paused;
    }
    return LiveStatus::running;
}

}  // namespace tether
