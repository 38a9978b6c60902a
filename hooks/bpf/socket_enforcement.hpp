// Kernel enforcement of a sandbox's network rules: the host's shared socket
// programs (program_set.hpp) attached to the container's own cgroup in the
// cgroup v2 hierarchy (the unified one on hybrid hosts), the container's
// rules written as its cgroup's ProgramPolicy, and the container's own maps
// (the ring buffer its events go to; the transparent-egress and DNS maps).
//
// tether-netd attaches them while it runs as the prestart hook, with the
// runtime's privileges, before the container's process exists. They stay
// attached for the life of the cgroup (legacy BPF_PROG_ATTACH holds them on
// the cgroup, not on an fd), and the policy lives as long (the cgroup's
// storage), so they go away when `delete` removes it; a daemon that dies
// takes only the logging with it, never the enforcement.
//
// The container cannot remove them: the sandbox's seccomp closures refuse
// bpf(2) whatever capabilities the config grants; a cgroup nested inside may
// add programs but never override ours (BPF_F_ALLOW_MULTI); and the sandbox
// gets a cgroup namespace (sandbox_setup.cpp), so even with CAP_SYS_ADMIN it
// cannot move itself out of the cgroup.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "hooks/bpf/container_slots.hpp"
#include "hooks/bpf/program_set.hpp"
#include "hooks/bpf/socket_rules.hpp"
#include "runtime/core/unique_fd.hpp"

namespace tether::hooks::bpf {

// The mount point of the cgroup2 hierarchy's root ("" when none is mounted):
// /sys/fs/cgroup on a v2 host, /sys/fs/cgroup/unified on a hybrid one.
std::string cgroup2_mount_point();

// The container's cgroup v2 directory, from /proc/<pid>/cgroup ("0::/x")
// and the cgroup2 mount. Throws tether::Error saying why there is none: no
// cgroup v2 hierarchy mounted, the init in the root cgroup (programs there
// would apply to the whole host), or in the cgroup of tether-netd itself.
std::string container_cgroup2_dir(pid_t pid);

// Throws tether::Error when tether-netd runs in a user namespace other than
// the initial one (rootless podman, rootless Docker): the kernel loads cgroup
// socket programs only for CAP_BPF and CAP_NET_ADMIN in the initial user
// namespace, so that is the reason, whatever the cgroup layout says.
// `uid_map` is the text of /proc/self/uid_map.
void require_initial_user_namespace(const std::string& uid_map);

class SocketEnforcement {
public:
    // Attaches the programs the rules need, takes a slot for the
    // container's maps (container_slots.hpp) and writes its policy, or does
    // none of it (what was attached is detached again, the slot given back).
    // Throws tether::Error naming the step that failed (EPERM: not root, as
    // under rootless podman).
    static SocketEnforcement attach(const SocketRules& rules, const std::string& cgroup_dir,
                                    std::shared_ptr<const ProgramSet> programs);
    // With the host's shared set (ProgramSet::shared()).
    static SocketEnforcement attach(const SocketRules& rules, const std::string& cgroup_dir);

    int events_fd() const { return slot_.events.get(); }
    // Transparent egress: the map the proxy takes original destinations
    // from (OriginalDestinations); -1 when rules.transparent_port was 0.
    int original_destinations_fd() const { return slot_.original_by_client.get(); }
    const std::string& cgroup_dir() const { return cgroup_dir_; }
    uint64_t cgroup_id() const { return cgroup_id_; }
    // Kernel ids of the attached programs (for tests and logs).
    std::vector<uint32_t> program_ids() const;
    const ProgramSet& programs() const { return *programs_; }
    uint64_t slot() const { return slot_.id; }
    SlotKind slot_kind() const { return static_cast<SlotKind>(slot_.id & 1); }
    // False when the create had to make its slot (the free list was empty).
    bool slot_from_pool() const { return slot_.from_pool; }

private:
    std::shared_ptr<const ProgramSet> programs_;
    std::string cgroup_dir_;
    uint64_t cgroup_id_ = 0;
    ClaimedSlot slot_;
    std::vector<size_t> attached_;  // indices into programs_->programs()
};


}  // namespace tether::hooks::bpf
