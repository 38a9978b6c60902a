#include "spec/features.hpp"

#include <nlohmann/json.hpp>

#include "spec/capability_names.hpp"
#include "spec/vocabulary.hpp"

namespace tether::spec {

namespace {

using ordered_json = nlohmann::ordered_json;

std::vector<std::string> to_strings(const NameList& names) { return {names.begin(), names.end()}; }

void put_optional(ordered_json& j, const char* key, const std::optional<bool>& value) {
    if (value) j[key] = *value;
}

ordered_json enabled_object(bool enabled) { return ordered_json{{"enabled", enabled}}; }

ordered_json linux_object(const LinuxFeatures& linux_features) {
    ordered_json j = ordered_json::object();
    if (!linux_features.namespaces.empty()) j["namespaces"] = linux_features.namespaces;
    if (!linux_features.capabilities.empty()) j["capabilities"] = linux_features.capabilities;
    if (const auto& cgroup = linux_features.cgroup) {
        ordered_json c = ordered_json::object();
        put_optional(c, "v1", cgroup->v1);
        put_optional(c, "v2", cgroup->v2);
        put_optional(c, "systemd", cgroup->systemd);
        put_optional(c, "systemdUser", cgroup->systemd_user);
        put_optional(c, "rdma", cgroup->rdma);
        j["cgroup"] = c;
    }
    if (const auto& seccomp = linux_features.seccomp) {
        ordered_json s;
        s["enabled"] = seccomp->enabled;
        if (!seccomp->actions.empty()) s["actions"] = seccomp->actions;
        if (!seccomp->operators.empty()) s["operators"] = seccomp->operators;
        if (!seccomp->archs.empty()) s["archs"] = seccomp->archs;
        if (!seccomp->known_flags.empty()) s["knownFlags"] = seccomp->known_flags;
        if (!seccomp->supported_flags.empty()) s["supportedFlags"] = seccomp->supported_flags;
        j["seccomp"] = s;
    }
    if (linux_features.apparmor) j["apparmor"] = enabled_object(*linux_features.apparmor);
    if (linux_features.selinux) j["selinux"] = enabled_object(*linux_features.selinux);
    if (linux_features.intel_rdt) j["intelRdt"] = enabled_object(*linux_features.intel_rdt);
    if (linux_features.idmap_mounts)
        j["mountExtensions"] = ordered_json{{"idmap", enabled_object(*linux_features.idmap_mounts)}};
    return j;
}

}  // namespace

Features features_template() {
    Features f;
    f.hooks = to_strings(hook_names());
    f.mount_options = to_strings(known_mount_options());
    LinuxFeatures l;
    l.namespaces = to_strings(namespace_type_names());
    l.capabilities = to_strings(all_capability_names());
    SeccompFeatures s;
    s.actions = to_strings(seccomp_action_names());
    s.operators = to_strings(seccomp_operator_names());
    s.archs = to_strings(seccomp_arch_names());
    s.known_flags = to_strings(seccomp_flag_names());
    l.seccomp = s;
    f.linux_ = l;
    return f;
}

std::string features_to_json(const Features& features) {
    ordered_json j;
    j["ociVersionMin"] = features.oci_version_min;
    j["ociVersionMax"] = features.oci_version_max;
    if (!features.hooks.empty()) j["hooks"] = features.hooks;
    if (!features.mount_options.empty()) j["mountOptions"] = features.mount_options;
    if (features.linux_) j["linux"] = linux_object(*features.linux_);
    if (!features.annotations.empty()) j["annotations"] = features.annotations;
    if (!features.potentially_unsafe_config_annotations.empty())
        j["potentiallyUnsafeConfigAnnotations"] = features.potentially_unsafe_config_annotations;
    return j.dump(4, ' ', false, ordered_json::error_handler_t::replace);
}

}  // namespace tether::spec
