// cgroupsPath handling: validation, the default path, per-hierarchy
// resolution, and the one-string form saved in the container's state so a
// later process (kill, pause, delete) can find the same cgroups again.
#pragma once

#include <map>
#include <string>

namespace tether::cgroups {

// Collapses "//", "." and non-escaping "..". Keeps a leading "/" (absolute
// paths are relative to the hierarchy's root; relative ones to the runtime's
// own cgroup). Throws tether::Error when ".." would climb above that base:
// a config must not be able to place a container in, or delete, a cgroup
// outside the tree it names.
std::string normalize_cgroups_path(const std::string& path);

// runc's default when linux.cgroupsPath is empty: the container id, relative,
// so the container lands below the runtime's own cgroup.
std::string default_cgroups_path(const std::string& container_id);

// Absolute path inside one hierarchy for a normalized cgroupsPath.
// own_cgroup is the runtime's own cgroup in that hierarchy.
std::string resolve_in_hierarchy(const std::string& normalized, const std::string& own_cgroup);

// Hierarchy key ("memory", ..., "unified") -> absolute cgroup path.
using HierarchyPaths = std::map<std::string, std::string>;

// One string for the state file: "/a/b" when every hierarchy uses the same
// path (the usual case), else "memory=/x/id;cpu=/id;unified=/id".
std::string encode_saved_path(const HierarchyPaths& paths);
// The inverse; a plain "/a/b" yields {"*": "/a/b"} (applies to every hierarchy).
HierarchyPaths decode_saved_path(const std::string& saved);

// The container's cgroup in the v1 hierarchy mounted at
// /sys/fs/cgroup/<mount_name> ("memory", "cpu,cpuacct", "systemd" for
// name=systemd), from decode_saved_path's result; "" when the paths name
// none of its controllers.
std::string path_in_mounted_hierarchy(const HierarchyPaths& paths, const std::string& mount_name);

}  // namespace tether::cgroups
