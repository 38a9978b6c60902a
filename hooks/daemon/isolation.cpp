// Theory of operation (after passt's isolation.c)
// ================================================
// tether-netd runs as root in the host's namespaces, next to an untrusted
// container, for the container's whole life. After setup it keeps only what
// serving needs, and says so here, in one place:
//
// Keeps
//   CAP_SYS_PTRACE        pidfd_getfd and process_vm_readv/writev on the
//                         container's threads (the supervisor).
//   CAP_NET_BIND_SERVICE  binding below 1024 for the container; the
//                         supervisor re-checks the container's own
//                         CAP_NET_BIND_SERVICE first (decision.cpp).
//   CAP_SYS_ADMIN         setns into the container's network namespace for
//                         the loopback bridge's listeners (hooks/bridge).
//   CAP_NET_ADMIN         netlink requests of the bridge in that namespace.
//   CAP_KILL              signalling the container's threads (SIGPIPE on a
//                         send performed for them) across user namespaces.
// Drops
//   every other capability, from the effective, permitted, inheritable and
//   bounding sets; ambient capabilities.
// Sets
//   no_new_privs: nothing the daemon could exec gains privileges;
//   PR_SET_DUMPABLE 0: the container (or anyone) cannot ptrace the daemon
//   or read its memory through /proc;
//   cwd "/", umask 077: no relative path into the state dir, no readable
//   files by accident.
// Not done (yet): own mount namespace with an empty root, a seccomp filter on
// the daemon itself. The supervisor needs /proc/<tid> of the container.
#include "hooks/daemon/isolation.hpp"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/core/error.hpp"

namespace tether::hooks {

namespace {

constexpr int kKeptCapabilities[] = {CAP_SYS_PTRACE, CAP_NET_BIND_SERVICE, CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_KILL};

bool kept(int capability) {
    for (int c : kKeptCapabilities)
        if (c == capability) return true;
    return false;
}

}  // namespace

void isolate_daemon() {
    if (::chdir("/") != 0) throw_errno("netd isolation: chdir /");
    ::umask(077);
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) throw_errno("netd isolation: PR_SET_DUMPABLE");
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        throw_errno("netd isolation: PR_CAP_AMBIENT_CLEAR_ALL");

    for (int c = 0; c <= CAP_LAST_CAP; ++c) {
        if (kept(c)) continue;
        // EINVAL: a capability this kernel does not know.
        if (::prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL)
            throw_errno("netd isolation: PR_CAPBSET_DROP " + std::to_string(c));
    }

    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capget, &header, data) != 0) throw_errno("netd isolation: capget");
    uint32_t keep[2] = {0, 0};
    for (int c : kKeptCapabilities) keep[c / 32] |= 1u << (c % 32);
    for (int i = 0; i < 2; ++i) {
        data[i].effective &= keep[i];
        data[i].permitted &= keep[i];
        data[i].inheritable = 0;
    }
    if (::syscall(SYS_capset, &header, data) != 0) throw_errno("netd isolation: capset");

    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw_errno("netd isolation: PR_SET_NO_NEW_PRIVS");
}

}  // namespace tether::hooks
