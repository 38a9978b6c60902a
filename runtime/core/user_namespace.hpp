// Which user namespace a process runs in, read from its uid_map: the
// initial one maps the whole 32-bit range onto itself ("0 0 4294967295");
// any other map means a user namespace (rootless podman, rootless Docker's
// rootlesskit), where uid 0 is root only over what that namespace owns.
// Header-only: both the runtime (cgroup writes may fail with EPERM) and
// tether-netd (bpf(2) needs the initial namespace) ask.
#pragma once

#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>

namespace tether {

// True unless `uid_map` (the text of /proc/<pid>/uid_map) is the identity
// over the whole range. An unreadable or empty map counts as initial.
inline bool uid_map_is_user_namespace(const std::string& uid_map) {
    std::istringstream fields(uid_map);
    uint64_t inside = 0, outside = 0, count = 0;
    if (!(fields >> inside >> outside >> count)) return false;
    return !(inside == 0 && outside == 0 && count == 4294967295ull);
}

// The uid outside (in the parent namespace) that `uid` inside maps to, from
// the lines "inside outside count" of `uid_map`; nullopt when unmapped.
inline std::optional<uint64_t> uid_outside(const std::string& uid_map, uint64_t uid) {
    std::istringstream lines(uid_map);
    uint64_t inside = 0, outside = 0, count = 0;
    while (lines >> inside >> outside >> count)
        if (uid >= inside && uid - inside < count) return outside + (uid - inside);
    return std::nullopt;
}

inline std::string read_own_uid_map() {
    std::ifstream in("/proc/self/uid_map");
    return std::string(std::istreambuf_iterator<char>(in), {});
}

inline bool running_in_user_namespace() { return uid_map_is_user_namespace(read_own_uid_map()); }

}  // namespace tether
