// Kernel enforcement of a sandbox's network rules: the programs of
// socket_programs.hpp loaded and attached to the container's own cgroup in
// the cgroup v2 hierarchy (the unified one on hybrid hosts), with the ring
// buffer their events go to.
//
// tether-netd attaches them while it runs as the prestart hook, with the
// runtime's privileges, before the container's process exists. They stay
// attached for the life of the cgroup (legacy BPF_PROG_ATTACH holds them on
// the cgroup, not on an fd), so they go away when `delete` removes it.
//
// The container cannot remove them: the sandbox's seccomp closures refuse
// bpf(2) whatever capabilities the config grants; a cgroup nested inside may
// add programs but never override ours (BPF_F_ALLOW_MULTI); and the sandbox
// gets a cgroup namespace (sandbox_setup.cpp), so even with CAP_SYS_ADMIN it
// cannot move itself out of the cgroup.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

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
    // Creates the maps, loads the programs and attaches them all, or none
    // (what was attached is detached again). Throws tether::Error naming the
    // step that failed (EPERM: not root, as under rootless podman).
    static SocketEnforcement attach(const SocketRules& rules, const std::string& cgroup_dir);

    int events_fd() const { return events_.get(); }
    // Transparent egress: the map the proxy takes original destinations
    // from (OriginalDestinations); -1 when rules.transparent_port was 0.
    int original_destinations_fd() const { return original_by_client_.get(); }
    const std::string& cgroup_dir() const { return cgroup_dir_; }
    // Kernel ids of the attached programs (for tests and `tether-netd` logs).
    const std::vector<uint32_t>& program_ids() const { return program_ids_; }

private:
    std::string cgroup_dir_;
    UniqueFd events_;
    UniqueFd original_by_client_;
    std::vector<uint32_t> program_ids_;
};

// Ring buffer size: 16 KiB holds 256 events (56 bytes and an 8-byte
// header each). The reader empties it at most kBatchMs (5 ms) after the
// first record wakes it, so it keeps up with 51,000 calls a second; a
// connect+accept+close loop in a sandbox takes about 72 us (14,000 a
// second). A flood of UDP sends to allowed ports can outrun any size
// (records beyond a full ring are not logged; the calls are still
// decided). The data is mapped twice into the daemon (the kernel's
// wrap-around), so each KiB here is 2 KiB of its RSS: 64 KiB cost 132 KiB
// of RSS, 16 KiB cost 36 (issue 23).
inline constexpr uint32_t kEventRingBytes = 16 * 1024;
// Redirected connects between connect() and the proxy's accept (the
// listener's backlog is 1024). An LRU map: when a flood of connects that
// never reach the proxy fills it, the oldest entries go (their connections,
// if they ever arrive, are refused). Preallocated: two maps of this many
// entries are about 0.8 MiB of kernel memory per transparent sandbox.
inline constexpr uint32_t kOriginalDestinationEntries = 4096;
// UDP sockets with a query in flight to the DNS responder (one entry per
// socket, its last query's destination). LRU: a socket pushed out by a flood
// of others gets the responder's own address as the reply's source, which
// its resolver drops; it then asks again.
inline constexpr uint32_t kDnsQueryEntries = 1024;

}  // namespace tether::hooks::bpf
