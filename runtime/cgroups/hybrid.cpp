// Hybrid hosts: limits, freezer and statistics come from the v1 controllers;
// the process is also placed in the cgroup2 hierarchy (which has no
// controllers) so that tools tracking membership there see it, as runc does.
#include <memory>

#include "runtime/cgroups/hybrid_manager.hpp"
#include "runtime/core/error.hpp"

namespace tether::cgroups {

HybridManager::HybridManager(const CgroupRoot& root, const HierarchyPaths& paths, bool rootless)
    : v1_(root, paths, rootless),
      unified_(root.unified_mount,
               paths.count("unified") ? paths.at("unified") : paths.at("*"), rootless, /*tracking_only=*/true) {}

std::string HybridManager::saved_path() const {
    HierarchyPaths paths = v1_.paths();
    paths["unified"] = unified_.saved_path();
    return encode_saved_path(paths);
}

void HybridManager::sync_warnings() {
    for (const auto* inner : {static_cast<const CgroupManager*>(&v1_), static_cast<const CgroupManager*>(&unified_)}) {
        size_t& seen = inner == &v1_ ? v1_warnings_seen_ : unified_warnings_seen_;
        const auto& list = inner->warnings();
        for (; seen < list.size(); ++seen) warn(list[seen]);
    }
}

void HybridManager::tracking(const char* what, const std::function<void()>& step) {
    // The unified hierarchy only records membership here: a failure there
    // must not fail the container.
    try {
        step();
    } catch (const Error& error) {
        warn(std::string("cgroups: hybrid: cannot ") + what + " the cgroup2 tracking hierarchy: " + error.what());
    }
}

void HybridManager::create() {
    v1_.create();
    tracking("create in", [&] { unified_.create(); });
    sync_warnings();
}

void HybridManager::create_for_clone() {
    tracking("create in", [&] { unified_.create(); });
    sync_warnings();
}

void HybridManager::create_v1() {
    v1_.create();
    sync_warnings();
}

void HybridManager::add_process(pid_t pid) {
    v1_.add_process(pid);
    tracking("join", [&] { unified_.add_process(pid); });
    sync_warnings();
}

SelfJoin HybridManager::with_unified(SelfJoin v1_join) {
    SelfJoin unified = unified_.prepare_self_join();
    v1_join.cgroup2_dir = std::move(unified.cgroup2_dir);
    v1_join.parent_part = unified.parent_part;  // the v1 part is the child's
    sync_warnings();
    return v1_join;
}

SelfJoin HybridManager::prepare_self_join() { return with_unified(v1_.prepare_self_join()); }

SelfJoin HybridManager::prepare_split_join() { return with_unified(v1_.prepare_split_join()); }

void HybridManager::finish_join(pid_t pid, bool born_in_cgroup2) {
    // The v1 hierarchies the child joined itself.
    if (!born_in_cgroup2) tracking("join", [&] { unified_.add_process(pid); });
    sync_warnings();
}

void HybridManager::apply_resources(const spec::Resources& resources) {
    if (!resources.unified.empty())
        throw Error("linux.resources.unified: key \"" + resources.unified.begin()->first +
                    "\" requires cgroup v2, but this host runs its controllers on cgroup v1 (hybrid layout)");
    v1_.apply_resources(resources);
    sync_warnings();
}

void HybridManager::destroy() {
    v1_.destroy();
    unified_.destroy();
    sync_warnings();
}

}  // namespace tether::cgroups
