#include "runtime/linux/mount_plan.hpp"

#include <sys/mount.h>

#include "runtime/core/error.hpp"
#include "runtime/linux/mount_options.hpp"

namespace tether::os {
namespace {

std::string mount_label(size_t index) { return "mounts[" + std::to_string(index) + "]"; }

std::string absolute_source(const spec::Mount& mount, const std::string& bundle) {
    if (mount.source.empty() || mount.source[0] == '/') return mount.source;
    return bundle + "/" + mount.source;
}

bool binds_dev(const spec::Mount& mount) {
    if (mount.destination != "/dev") return false;
    MountFlags flags = parse_mount_options(mount.options);
    return flags.bind || mount.type == "bind";
}

// Without a mount namespace the container shares the runtime's (runc and
// crun chroot into the rootfs then). Whatever we mounted there would be
// mounted on the host and outlive the container: runc 1.1.5 and crun 1.8.1
// leave their /proc, /dev, /sys ... mounts under the bundle after delete
// (measured). So every field that needs a mount is refused, by name.
void refuse_without_mount_namespace(const spec::Config& config, MountPlan& plan) {
    const std::string why = ": needs a mount namespace (linux.namespaces has none; the mount would be made "
                            "in the runtime's mount namespace and outlive the container)";
    for (size_t i = 0; i < config.mounts.size(); ++i)
        plan.refusals.push_back(mount_label(i) + " (" + config.mounts[i].destination + ")" + why);
    if (config.linux_) {
        if (!config.linux_->masked_paths.empty()) plan.refusals.push_back("linux.maskedPaths" + why);
        if (!config.linux_->readonly_paths.empty()) plan.refusals.push_back("linux.readonlyPaths" + why);
        if (!config.linux_->rootfs_propagation.empty()) plan.refusals.push_back("linux.rootfsPropagation" + why);
        if (!config.linux_->devices.empty()) plan.refusals.push_back("linux.devices" + why);
    }
    if (config.root && config.root->readonly) plan.refusals.push_back("root.readonly" + why);
}

MountStep plan_one(const spec::Mount& mount, size_t index, const MountPlanInputs& inputs, MountPlan& plan) {
    MountFlags flags = parse_mount_options(mount.options);
    MountStep step;
    step.index = index;
    step.destination = mount.destination;
    step.type = mount.type;
    step.source = mount.source;
    // MS_REMOUNT in a config ("remount") means nothing for a new mount: the
    // apply step remounts binds itself when flags are given.
    step.flags = flags.flags & ~static_cast<unsigned long>(MS_REMOUNT);
    step.clear = flags.clear;
    step.data = flags.data;
    step.recursive = flags.recursive_bind;
    step.propagation = flags.propagation;
    // procfs or sysfs over a planted symlink would land wherever the rootfs
    // points (CVE-2019-19921); a /dev symlinked to a host folder would get
    // the runtime's tmpfs and device nodes (CVE-2026-41579, crun
    // CVE-2026-47766). These destinations must be real directories.
    step.refuse_symlink = mount.type == "proc" || mount.type == "sysfs" || mount.destination == "/dev";

    if (flags.idmap || !mount.uid_mappings.empty() || !mount.gid_mappings.empty())
        plan.refusals.push_back(mount_label(index) + ".options: idmapped mounts are not supported (features: "
                                "idmap is false)");

    if (mount.type == "cgroup" || mount.type == "cgroup2") {
        step.action = (!inputs.own_cgroup_namespace && !inputs.host_cgroup_unified) ? MountAction::cgroup_v1
                                                                                     : MountAction::cgroup2;
        return step;
    }
    if (mount.type == "sysfs" && !flags.bind && inputs.new_user_namespace && !inputs.own_network_namespace) {
        // sysfs needs a network namespace owned by our user namespace; bind the host's.
        step.action = MountAction::sysfs_from_host;
        step.source = "/sys";
        step.recursive = true;
        return step;
    }
    if (flags.bind || mount.type == "bind") {
        step.action = MountAction::bind;
        // Relative bind sources are the bundle's (runc); a filesystem's
        // source ("tmpfs", "proc") is only a name.
        step.source = absolute_source(mount, inputs.bundle);
        if (mount.source.empty())
            plan.refusals.push_back(mount_label(index) + ".source: a bind mount of " + mount.destination +
                                    " needs a source");
        return step;
    }
    step.action = MountAction::filesystem;
    if (step.source.empty()) step.source = mount.type;
    return step;
}

}  // namespace

MountPlan plan_mounts(const spec::Config& config, const MountPlanInputs& inputs) {
    MountPlan plan;
    plan.new_mount_namespace = inputs.new_mount_namespace;
    if (!inputs.new_mount_namespace) {
        refuse_without_mount_namespace(config, plan);
        plan.create_devices = false;
        return plan;
    }

    const std::string propagation = config.linux_ ? config.linux_->rootfs_propagation : std::string();
    unsigned long wanted = propagation.empty() ? 0 : parse_rootfs_propagation(propagation);
    plan.host_propagation.push_back(MS_SLAVE | MS_REC);
    // private and slave apply before the rootfs is bound, so it inherits
    // them. shared and unbindable wait for pivot_root: pivot_root refuses a
    // shared parent, and an unbindable "/" cannot be bound at all (the
    // rootfs bind failed with EINVAL: runc 1.1.5 still does, runc >= 1.2.6
    // applies them after pivot_root too).
    if (wanted & (MS_PRIVATE | MS_SLAVE)) plan.host_propagation.push_back(wanted);
    plan.root_propagation = wanted;

    for (size_t i = 0; i < config.mounts.size(); ++i) plan.mounts.push_back(plan_one(config.mounts[i], i, inputs, plan));

    bool dev_bound = false;
    for (const auto& mount : config.mounts) dev_bound = dev_bound || binds_dev(mount);
    plan.create_devices = !dev_bound;
    plan.bind_devices = inputs.new_user_namespace;

    if (config.linux_) {
        plan.masked_paths = config.linux_->masked_paths;
        plan.readonly_paths = config.linux_->readonly_paths;
    }
    plan.readonly_root = config.root && config.root->readonly;
    return plan;
}

void require_mount_plan(const MountPlan& plan) {
    if (!plan.refusals.empty()) throw Error(plan.refusals.front());
}

}  // namespace tether::os
