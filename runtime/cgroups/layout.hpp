// Where the cgroup hierarchies are mounted and which layout they form.
//
// Three layouts exist in the wild:
//   unified - one cgroup2 mount holds every controller (modern distributions);
//   legacy  - one cgroup (v1) mount per controller (or per co-mounted group);
//   hybrid  - v1 controllers plus a cgroup2 mount without controllers, used by
//             systemd to track processes (this machine: /sys/fs/cgroup/unified).
// The layout is detected at run time from /proc/self/mountinfo, never assumed,
// and everything is kept in a CgroupRoot value so tests can point the whole
// library at a temporary tree.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tether::cgroups {

enum class CgroupLayout { unified, legacy, hybrid };

struct CgroupRoot {
    // Mount point of the cgroup2 hierarchy, "" when there is none.
    std::string unified_mount;
    // v1 hierarchy key ("memory", "cpu", "name=systemd") -> mount point.
    // Co-mounted controllers ("cpu,cpuacct") map to the same mount point.
    std::map<std::string, std::string> v1_mounts;
    // The calling process's own cgroup per hierarchy, as in /proc/self/cgroup:
    // v1 key -> path, and "" -> the unified path. Relative cgroupsPath values
    // are resolved against these (as runc does).
    std::map<std::string, std::string> own_cgroups;

    // unified when only cgroup2 carries controllers, legacy when only v1
    // exists, hybrid when v1 controllers and a cgroup2 mount coexist.
    // Throws tether::Error when no cgroup filesystem is mounted at all.
    CgroupLayout layout() const;
};

// Parses the cgroup and cgroup2 lines of a mountinfo text.
CgroupRoot parse_cgroup_mounts(std::string_view mountinfo_text);

// The distinct mount points of v1_mounts' hierarchies (co-mounted
// controllers, "cpu" and "cpuacct", share one), in key order.
std::vector<std::string> distinct_mount_points(const std::map<std::string, std::string>& v1_mounts);

// Parses /proc/<pid>/cgroup text into hierarchy key -> path ("" = cgroup2).
// A line "4:cpu,cpuacct:/a" yields both "cpu" and "cpuacct".
std::map<std::string, std::string> parse_proc_cgroup(std::string_view text);

// Reads /proc/self/mountinfo and /proc/self/cgroup.
CgroupRoot detect_cgroup_root();

}  // namespace tether::cgroups
