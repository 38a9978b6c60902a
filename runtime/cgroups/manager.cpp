// The factories: detect the layout, resolve the path, pick the implementation.
#include "runtime/cgroups/manager.hpp"

#include <unistd.h>

#include "runtime/cgroups/cgroup_fs.hpp"
#include "runtime/cgroups/hybrid_manager.hpp"
#include "runtime/cgroups/paths.hpp"
#include "runtime/cgroups/systemd_manager.hpp"
#include "runtime/cgroups/systemd_path.hpp"
#include "runtime/cgroups/v1_manager.hpp"
#include "runtime/cgroups/v2_manager.hpp"
#include "runtime/core/error.hpp"
#include "runtime/core/user_namespace.hpp"

namespace tether::cgroups {

namespace {

std::string own_cgroup(const CgroupRoot& root, const std::string& key) {
    auto it = root.own_cgroups.find(key);
    return it == root.own_cgroups.end() ? "/" : it->second;
}

std::string parent_of(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    if (slash == std::string::npos || slash == 0) return "/";
    return path.substr(0, slash);
}

std::unique_ptr<CgroupManager> make_manager(const CgroupRoot& root, const HierarchyPaths& paths, bool rootless) {
    switch (root.layout()) {
        case CgroupLayout::unified: {
            auto it = paths.count("unified") ? paths.find("unified") : paths.find("*");
            if (it == paths.end()) throw Error("cgroups: no cgroup v2 path in \"" + encode_saved_path(paths) + "\"");
            return std::make_unique<V2Manager>(root.unified_mount, it->second, rootless);
        }
        case CgroupLayout::legacy: return std::make_unique<V1Manager>(root, paths, rootless);
        case CgroupLayout::hybrid: return std::make_unique<HybridManager>(root, paths, rootless);
    }
    throw Error("cgroups: unknown layout");
}

bool is_rootless(bool requested) { return requested || ::geteuid() != 0 || running_in_user_namespace(); }

}  // namespace

std::unique_ptr<CgroupManager> create_cgroup_manager(const CgroupRoot& root,
                                                     const std::string& cgroups_path_from_config,
                                                     const std::string& container_id, bool rootless) {
    const std::string normalized = cgroups_path_from_config.empty() ? default_cgroups_path(container_id)
                                                                     : normalize_cgroups_path(cgroups_path_from_config);
    HierarchyPaths paths;
    const CgroupLayout layout = root.layout();
    if (layout == CgroupLayout::unified) {
        // runc: relative to the PARENT of our own cgroup, because our own one
        // holds processes and so cannot delegate controllers to a child.
        paths["unified"] = resolve_in_hierarchy(normalized, parent_of(own_cgroup(root, "")));
    } else {
        for (const auto& [key, mount] : root.v1_mounts) paths[key] = resolve_in_hierarchy(normalized, own_cgroup(root, key));
        if (layout == CgroupLayout::hybrid) paths["unified"] = resolve_in_hierarchy(normalized, own_cgroup(root, ""));
    }
    return make_manager(root, paths, rootless);
}

std::unique_ptr<CgroupManager> create_cgroup_manager(const std::string& cgroups_path_from_config,
                                                     const std::string& container_id, bool rootless) {
    return create_cgroup_manager(detect_cgroup_root(), cgroups_path_from_config, container_id, is_rootless(rootless));
}

std::unique_ptr<CgroupManager> create_systemd_cgroup_manager(const std::string& cgroups_path_from_config,
                                                             const std::string& container_id,
                                                             const std::map<std::string, std::string>& annotations) {
    // Input first: a refused path or annotation leaves nothing behind.
    const SystemdUnitPath path = parse_systemd_cgroups_path(cgroups_path_from_config, container_id);
    std::vector<UnitProperty> extra = parse_property_annotations(annotations);
    // systemd's user manager is not supported (features: systemdUser false).
    if (::geteuid() != 0)
        throw Error("--systemd-cgroup: needs root (tether does not use systemd's user manager)");
    return std::make_unique<SystemdManager>(detect_cgroup_root(), path.unit, path.slice, path.cgroup_path(),
                                            std::move(extra));
}

namespace {

// "systemd:<unit>:<path>" -> {unit, path}: unit names never hold ':'
// (cgroupsPath's separator).
std::pair<std::string, std::string> split_systemd_saved_path(const std::string& saved_path) {
    const size_t unit_end = saved_path.find(':', 8);
    if (unit_end == std::string::npos) throw Error("cgroups: malformed saved cgroup path \"" + saved_path + "\"");
    return {saved_path.substr(8, unit_end - 8), saved_path.substr(unit_end + 1)};
}

}  // namespace

std::unique_ptr<CgroupManager> open_cgroup_manager(const CgroupRoot& root, const std::string& saved_path,
                                                   bool rootless) {
    if (is_systemd_saved_path(saved_path)) {
        auto [unit, path] = split_systemd_saved_path(saved_path);
        return std::make_unique<SystemdManager>(root, unit, path);
    }
    return make_manager(root, decode_saved_path(saved_path), rootless);
}

HierarchyPaths saved_hierarchy_paths(const std::string& saved_path) {
    // systemd makes a scope at the same path in every hierarchy.
    if (is_systemd_saved_path(saved_path)) return {{"*", split_systemd_saved_path(saved_path).second}};
    return decode_saved_path(saved_path);
}

std::unique_ptr<CgroupManager> open_cgroup_manager(const std::string& saved_path, bool rootless) {
    return open_cgroup_manager(detect_cgroup_root(), saved_path, is_rootless(rootless));
}

bool running_in_user_namespace() { return tether::running_in_user_namespace(); }

}  // namespace tether::cgroups
