// tether features: the runtime-spec features.json of what tether really supports.
#include <seccomp.h>

#include <cstdio>

#include "runtime/cli/cli.hpp"
#include "spec/features.hpp"
#include "spec/policy.hpp"

namespace tether::cli {
namespace {

spec::Features tether_features() {
    spec::Features features = spec::features_template();
    spec::LinuxFeatures& linux = *features.linux_;
    spec::CgroupFeatures cgroup;
    cgroup.v1 = true;
    cgroup.v2 = true;
    cgroup.systemd = true;
    cgroup.systemd_user = false;  // the system manager only: the user manager is not tested
    cgroup.rdma = false;
    linux.cgroup = cgroup;
    linux.seccomp->enabled = true;
    // Flags the kernel and libseccomp both support here.
    linux.seccomp->supported_flags = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                                      "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
    linux.apparmor = false;
    linux.selinux = false;
    linux.intel_rdt = false;
    linux.idmap_mounts = false;
    const struct scmp_version* v = seccomp_version();
    features.annotations["io.github.seccomp.libseccomp.version"] =
        std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro);
    features.annotations["run.tether.sandbox"] = "landlock,cgroup-socket-bpf,seccomp-notify,netd";
    // runtime-spec 1.2: annotations a CRI runtime should not pass from a
    // workload unfiltered. These can loosen a sandbox (an administrator's
    // ceiling, docs/annotations.md, bounds them in tether itself too).
    features.potentially_unsafe_config_annotations = spec::loosening_annotations();
    return features;
}

}  // namespace

void add_features(CLI::App& app, const GlobalOptions& global, Action& action) {
    CLI::App* cmd = app.add_subcommand("features", "print the features this runtime supports (JSON)");
    cmd->callback([&action] {
        action = [] {
            std::printf("%s\n", spec::features_to_json(tether_features()).c_str());
            return 0;
        };
    });
    (void)global;
}

}  // namespace tether::cli
