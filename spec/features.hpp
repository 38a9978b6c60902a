// features.json (runtime-spec 1.1+, `tether features`): what this runtime
// build supports. spec/ knows the vocabularies (features_template()); the
// runtime fills in what depends on the host (seccomp support, libseccomp
// version, cgroup managers) before printing.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tether::spec {

struct SeccompFeatures {
    bool enabled = false;
    std::vector<std::string> actions;          // SCMP_ACT_*
    std::vector<std::string> operators;        // SCMP_CMP_*
    std::vector<std::string> archs;            // SCMP_ARCH_*
    std::vector<std::string> known_flags;      // SECCOMP_FILTER_FLAG_* the runtime understands
    std::vector<std::string> supported_flags;  // ... of which the kernel and libseccomp support
};

struct CgroupFeatures {
    std::optional<bool> v1;
    std::optional<bool> v2;
    std::optional<bool> systemd;
    std::optional<bool> systemd_user;
    std::optional<bool> rdma;
};

struct LinuxFeatures {
    std::vector<std::string> namespaces;
    std::vector<std::string> capabilities;
    std::optional<CgroupFeatures> cgroup;
    std::optional<SeccompFeatures> seccomp;
    std::optional<bool> apparmor;      // linux.apparmor.enabled
    std::optional<bool> selinux;       // linux.selinux.enabled
    std::optional<bool> intel_rdt;     // linux.intelRdt.enabled
    std::optional<bool> idmap_mounts;  // linux.mountExtensions.idmap.enabled
};

struct Features {
    std::string oci_version_min = "1.0.0";
    std::string oci_version_max = "1.2.0";
    std::vector<std::string> hooks;
    std::vector<std::string> mount_options;
    std::optional<LinuxFeatures> linux_;  // trailing _: `linux` is a GNU macro
    std::map<std::string, std::string> annotations;
    std::vector<std::string> potentially_unsafe_config_annotations;
};

// Everything spec/ itself knows: hook phases, mount options, namespaces,
// capabilities, seccomp vocabularies (known_flags; supported_flags empty,
// enabled false). The runtime sets the host-dependent parts.
Features features_template();

// The features.json document, 4-space indented like `runc features`;
// unset optionals are omitted.
std::string features_to_json(const Features& features);

}  // namespace tether::spec
