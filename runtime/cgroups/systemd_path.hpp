// cgroupsPath for the systemd driver: "slice:prefix:name", runc's rules.
// Pure (no bus, no files), so it is unit-tested as data.
#pragma once

#include <string>

namespace tether::cgroups {

struct SystemdUnitPath {
    std::string slice;      // "system.slice" when the config left it empty
    std::string unit;       // "<prefix>-<name>.scope" ("<name>.scope" without prefix)
    std::string slice_dir;  // the slice expanded to its cgroup folder: "/a.slice/a-b.slice"
    // Where systemd puts the scope, below its own root cgroup.
    std::string cgroup_path() const;
};

// Parses linux.cgroupsPath as "slice:prefix:name". An empty path is runc's
// default "system.slice:tether:<id>"; an empty slice means system.slice.
// Throws tether::Error naming linux.cgroupsPath for any other shape, a slice
// not ending in ".slice", and prefixes or names systemd would not accept or
// that could leave the slice ("/", "..").
SystemdUnitPath parse_systemd_cgroups_path(const std::string& cgroups_path, const std::string& container_id);

// runc's ExpandSlice: "-.slice" -> "/", "a-b.slice" -> "/a.slice/a-b.slice".
// Throws tether::Error for a name that is not a valid slice.
std::string expand_slice(const std::string& slice);

}  // namespace tether::cgroups
