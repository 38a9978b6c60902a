#include "runtime/cgroups/layout.hpp"

#include <algorithm>
#include <set>
#include <sstream>
#include <vector>

#include "runtime/cgroups/cgroup_fs.hpp"
#include "runtime/core/error.hpp"

namespace tether::cgroups {

namespace {

// The v1 controllers the kernel knows; other super options of a cgroup mount
// (rw, clone_children, release_agent=...) are flags, not controllers.
const std::set<std::string, std::less<>> kV1Controllers = {
    "cpuset", "cpu",     "cpuacct", "blkio",     "memory", "devices", "freezer",
    "net_cls", "net_prio", "perf_event", "hugetlb", "pids",  "rdma",    "misc"};

std::vector<std::string> split(std::string_view text, char separator) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find(separator, start);
        if (end == std::string_view::npos) end = text.size();
        parts.emplace_back(text.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

// mountinfo escapes spaces and the like as \040 octal sequences.
std::string unescape_mountinfo(const std::string& field) {
    std::string out;
    for (size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && i + 3 < field.size()) {
            const std::string octal = field.substr(i + 1, 3);
            if (octal.size() == 3 && octal.find_first_not_of("01234567") == std::string::npos) {
                out.push_back(static_cast<char>(std::stoi(octal, nullptr, 8)));
                i += 3;
                continue;
            }
        }
        out.push_back(field[i]);
    }
    return out;
}

}  // namespace

CgroupLayout CgroupRoot::layout() const {
    bool has_v1_controller = false;
    for (const auto& [key, mount] : v1_mounts)
        if (key.rfind("name=", 0) != 0) has_v1_controller = true;
    if (has_v1_controller) return unified_mount.empty() ? CgroupLayout::legacy : CgroupLayout::hybrid;
    if (!unified_mount.empty()) return CgroupLayout::unified;
    throw Error("cgroups: no cgroup or cgroup2 filesystem is mounted (see /proc/self/mountinfo)");
}

CgroupRoot parse_cgroup_mounts(std::string_view mountinfo_text) {
    CgroupRoot root;
    for (const auto& line : split(mountinfo_text, '\n')) {
        // "<id> <parent> <maj:min> <root> <mount point> <opts> [optional...] - <fstype> <source> <super opts>"
        std::istringstream fields(line);
        std::vector<std::string> words;
        for (std::string word; fields >> word;) words.push_back(word);
        size_t dash = 0;
        while (dash < words.size() && words[dash] != "-") ++dash;
        if (words.size() < 5 || dash + 2 >= words.size()) continue;
        const std::string& fstype = words[dash + 1];
        const std::string mount_point = unescape_mountinfo(words[4]);
        if (fstype == "cgroup2") {
            if (root.unified_mount.empty()) root.unified_mount = mount_point;
        } else if (fstype == "cgroup") {
            const std::string super_options = dash + 3 < words.size() ? words[dash + 3] : "";
            for (const auto& option : split(super_options, ',')) {
                if (kV1Controllers.count(option) || option.rfind("name=", 0) == 0)
                    root.v1_mounts.emplace(option, mount_point);
            }
        }
    }
    return root;
}

std::vector<std::string> distinct_mount_points(const std::map<std::string, std::string>& v1_mounts) {
    std::vector<std::string> points;
    for (const auto& [key, mount] : v1_mounts)
        if (std::find(points.begin(), points.end(), mount) == points.end()) points.push_back(mount);
    return points;
}

std::map<std::string, std::string> parse_proc_cgroup(std::string_view text) {
    std::map<std::string, std::string> own;
    for (const auto& line : split(text, '\n')) {
        // "<hierarchy id>:<controllers>:<path>"; the path may contain ':'.
        const size_t first = line.find(':');
        if (first == std::string::npos) continue;
        const size_t second = line.find(':', first + 1);
        if (second == std::string::npos) continue;
        const std::string controllers = line.substr(first + 1, second - first - 1);
        const std::string path = line.substr(second + 1);
        if (controllers.empty()) {
            own[""] = path;
            continue;
        }
        for (const auto& controller : split(controllers, ',')) own[controller] = path;
    }
    return own;
}

CgroupRoot detect_cgroup_root() {
    CgroupRoot root = parse_cgroup_mounts(read_file("/proc/self", "mountinfo"));
    root.own_cgroups = parse_proc_cgroup(read_file("/proc/self", "cgroup"));
    return root;
}

}  // namespace tether::cgroups
