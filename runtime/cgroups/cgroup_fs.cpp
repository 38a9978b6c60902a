#include "runtime/cgroups/cgroup_fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <sstream>
#include <thread>

#include "runtime/core/error.hpp"
#include "runtime/core/unique_fd.hpp"

namespace tether::cgroups {

std::string join_path(const std::string& dir, const std::string& name) {
    if (dir.empty()) return name;
    if (dir.back() == '/') return dir + name;
    return dir + "/" + name;
}

bool path_exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

UniqueFd open_control_file(const std::string& dir, const std::string& name) {
    const std::string path = join_path(dir, name);
    return UniqueFd(retry_eintr([&] { return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC); }));
}

int try_write_value(int fd, const std::string& value) {
    // cgroupfs takes one value per write(2): never split it.
    const ssize_t written = retry_eintr([&] { return ::write(fd, value.data(), value.size()); });
    if (written < 0) return errno;
    if (static_cast<size_t>(written) != value.size()) return EIO;
    return 0;
}

int try_write_file(const std::string& dir, const std::string& name, const std::string& value) {
    UniqueFd fd = open_control_file(dir, name);
    if (!fd) return errno;
    return try_write_value(fd.get(), value);
}

void write_file(const std::string& dir, const std::string& name, const std::string& value) {
    if (int err = try_write_file(dir, name, value))
        throw Error("cgroups: write \"" + value + "\" to " + join_path(dir, name), err);
}

std::optional<std::string> read_file_if_exists(const std::string& dir, const std::string& name) {
    const std::string path = join_path(dir, name);
    UniqueFd fd(retry_eintr([&] { return ::open(path.c_str(), O_RDONLY | O_CLOEXEC); }));
    if (!fd) {
        if (errno == ENOENT) return std::nullopt;
        throw Error("cgroups: open " + path, errno);
    }
    std::string content;
    char buffer[4096];
    for (;;) {
        const ssize_t n = retry_eintr([&] { return ::read(fd.get(), buffer, sizeof buffer); });
        if (n < 0) throw Error("cgroups: read " + path, errno);
        if (n == 0) break;
        content.append(buffer, static_cast<size_t>(n));
    }
    return content;
}

std::string read_file(const std::string& dir, const std::string& name) {
    auto content = read_file_if_exists(dir, name);
    if (!content) throw Error("cgroups: read " + join_path(dir, name), ENOENT);
    return *content;
}

std::string trim(const std::string& text) {
    const size_t first = text.find_first_not_of(" \t\n");
    if (first == std::string::npos) return "";
    const size_t last = text.find_last_not_of(" \t\n");
    return text.substr(first, last - first + 1);
}

namespace {

uint64_t parse_uint(const std::string& text, const std::string& what) {
    const std::string value = trim(text);
    if (value == "max") return UINT64_MAX;
    uint64_t number = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (ec != std::errc() || end != value.data() + value.size() || value.empty())
        throw Error("cgroups: " + what + ": expected a number, read \"" + value + "\"");
    return number;
}

}  // namespace

uint64_t read_uint(const std::string& dir, const std::string& name) {
    return parse_uint(read_file(dir, name), join_path(dir, name));
}

std::map<std::string, uint64_t> read_key_values(const std::string& dir, const std::string& name) {
    std::map<std::string, uint64_t> values;
    std::istringstream lines(read_file(dir, name));
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string key, value;
        if (!(words >> key >> value)) continue;
        values[key] = parse_uint(value, join_path(dir, name) + " key " + key);
    }
    return values;
}

int make_directories(const std::string& path) {
    // The parents almost always exist: one mkdir, not one per component
    // (11 hierarchies times the depth on a v1 host, on every create).
    if (::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) return 0;
    if (errno != ENOENT) return errno;
    std::string partial;
    size_t position = 0;
    while (position < path.size()) {
        size_t next = path.find('/', position + 1);
        if (next == std::string::npos) next = path.size();
        partial = path.substr(0, next);
        position = next;
        if (partial.empty() || partial == "/") continue;
        if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) return errno;
    }
    return 0;
}

namespace {

std::vector<std::string> sub_directories(const std::string& dir) {
    std::vector<std::string> children;
    DIR* stream = ::opendir(dir.c_str());
    if (!stream) return children;
    while (const dirent* entry = ::readdir(stream)) {
        const std::string name = entry->d_name;
        if (name == "." || name == "..") continue;
        if (entry->d_type == DT_DIR) children.push_back(join_path(dir, name));
    }
    ::closedir(stream);
    return children;
}

bool is_cgroupfs(const std::string& path) {
    struct statfs fs;
    if (::statfs(path.c_str(), &fs) != 0) return false;
    return fs.f_type == CGROUP_SUPER_MAGIC || fs.f_type == CGROUP2_SUPER_MAGIC;
}

}  // namespace

void remove_cgroup_tree(const std::string& path) {
    // Almost always a leaf: one rmdir, no listing. Sub-cgroups make it fail
    // (EBUSY on cgroupfs, ENOTEMPTY on a plain tree); they go first, then
    // the loop below.
    if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return;
    for (const auto& child : sub_directories(path)) remove_cgroup_tree(child);
    // A cgroup whose last process was just killed stays busy until the kernel
    // has finished tearing the task down; runc retries for the same reason.
    auto delay = std::chrono::milliseconds(10);
    for (int attempt = 0;; ++attempt) {
        if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return;
        if (errno == ENOTEMPTY && attempt == 0 && !is_cgroupfs(path)) {
            // A plain directory (unit-test tree): on cgroupfs the knob files go
            // away with the rmdir, here we remove them ourselves.
            DIR* stream = ::opendir(path.c_str());
            if (stream) {
                while (const dirent* entry = ::readdir(stream))
                    if (entry->d_type != DT_DIR) ::unlinkat(dirfd(stream), entry->d_name, 0);
                ::closedir(stream);
            }
            continue;
        }
        if (errno != EBUSY || attempt >= 8) throw Error("cgroups: rmdir " + path, errno);
        std::this_thread::sleep_for(delay);
        delay *= 2;
    }
}

std::vector<pid_t> read_pids_recursive(const std::string& dir, const std::string& file) {
    std::vector<pid_t> pids;
    auto content = read_file_if_exists(dir, file);
    if (content) {
        std::istringstream words(*content);
        for (long pid; words >> pid;) pids.push_back(static_cast<pid_t>(pid));
    }
    for (const auto& child : sub_directories(dir)) {
        auto more = read_pids_recursive(child, file);
        pids.insert(pids.end(), more.begin(), more.end());
    }
    std::sort(pids.begin(), pids.end());
    pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
    return pids;
}

}  // namespace tether::cgroups
