#include "runtime/cgroups/paths.hpp"

#include <vector>

#include "runtime/core/error.hpp"

namespace tether::cgroups {

std::string normalize_cgroups_path(const std::string& path) {
    if (path.empty()) return "";
    const bool absolute = path.front() == '/';
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= path.size()) {
        size_t end = path.find('/', start);
        if (end == std::string::npos) end = path.size();
        const std::string part = path.substr(start, end - start);
        start = end + 1;
        if (part.empty() || part == ".") continue;
        if (part == "..") {
            if (parts.empty())
                throw Error("linux.cgroupsPath \"" + path + "\": \"..\" escapes the cgroup root");
            parts.pop_back();
            continue;
        }
        parts.push_back(part);
    }
    std::string out = absolute ? "/" : "";
    for (size_t i = 0; i < parts.size(); ++i) {
        if (i) out += "/";
        out += parts[i];
    }
    if (!absolute && out.empty())
        throw Error("linux.cgroupsPath \"" + path + "\": names the runtime's own cgroup");
    return out;
}

std::string default_cgroups_path(const std::string& container_id) {
    return normalize_cgroups_path(container_id);
}

std::string resolve_in_hierarchy(const std::string& normalized, const std::string& own_cgroup) {
    if (!normalized.empty() && normalized.front() == '/') return normalized;
    std::string base = own_cgroup.empty() ? "/" : own_cgroup;
    if (base.back() != '/') base += "/";
    return base + normalized;
}

std::string encode_saved_path(const HierarchyPaths& paths) {
    if (paths.empty()) return "";
    bool uniform = true;
    for (const auto& [key, path] : paths)
        if (path != paths.begin()->second) uniform = false;
    if (uniform) return paths.begin()->second;
    std::string out;
    for (const auto& [key, path] : paths) {
        if (!out.empty()) out += ";";
        out += key + "=" + path;
    }
    return out;
}

HierarchyPaths decode_saved_path(const std::string& saved) {
    HierarchyPaths paths;
    if (saved.empty()) throw Error("cgroups: empty saved cgroup path");
    if (saved.front() == '/') {
        paths["*"] = normalize_cgroups_path(saved);
        return paths;
    }
    size_t start = 0;
    while (start < saved.size()) {
        size_t end = saved.find(';', start);
        if (end == std::string::npos) end = saved.size();
        const std::string entry = saved.substr(start, end - start);
        start = end + 1;
        // Keys may contain '=' themselves ("name=systemd"); paths start with '/'.
        const size_t equals = entry.find("=/");
        if (equals == std::string::npos || equals == 0)
            throw Error("cgroups: malformed saved cgroup path \"" + saved + "\"");
        paths[entry.substr(0, equals)] = normalize_cgroups_path(entry.substr(equals + 1));
    }
    return paths;
}

std::string path_in_mounted_hierarchy(const HierarchyPaths& paths, const std::string& mount_name) {
    if (auto all = paths.find("*"); all != paths.end()) return all->second;
    // The keys are the controllers one by one, "name=<name>" for a named
    // hierarchy: a mount of several ("cpu,cpuacct") is found by any of them.
    std::vector<std::string> keys = {mount_name, "name=" + mount_name};
    size_t start = 0;
    while (start < mount_name.size()) {
        size_t comma = mount_name.find(',', start);
        if (comma == std::string::npos) comma = mount_name.size();
        keys.push_back(mount_name.substr(start, comma - start));
        start = comma + 1;
    }
    for (const auto& key : keys)
        if (auto found = paths.find(key); found != paths.end()) return found->second;
    return "";
}

}  // namespace tether::cgroups
