// config.json mount options -> mount(2) flags, propagation flags and the data
// string. Pure: unit-tested without mounting anything.
#pragma once

#include <string>
#include <vector>

namespace tether::os {

struct MountFlags {
    unsigned long flags = 0;        // MS_RDONLY, MS_NOSUID, ...
    unsigned long clear = 0;        // flags an option explicitly turned off (rw, suid, ...)
    unsigned long propagation = 0;  // MS_SHARED | MS_REC, ... applied after the mount
    bool bind = false;
    bool recursive_bind = false;
    bool idmap = false;
    std::string data;               // unknown options, comma-joined (fs-specific)
};

MountFlags parse_mount_options(const std::vector<std::string>& options);

// Propagation for linux.rootfsPropagation ("" -> MS_SLAVE|MS_REC like runc).
unsigned long parse_rootfs_propagation(const std::string& value);

}  // namespace tether::os
