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

#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <memory>
#include <type_traits>

#include "runtime/core/error.hpp"

namespace tether::hooks {

namespace {

constexpr cap_value_t kKeptCapabilities[] = {CAP_SYS_PTRACE, CAP_NET_BIND_SERVICE, CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_KILL};

bool kept(int capability) {
    for (cap_value_t c : kKeptCapabilities)
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

    // Effective and permitted: only the kept ones that are held now;
    // inheritable: none (libcap, as the runtime's capabilities.cpp).
    std::unique_ptr<std::remove_pointer_t<cap_t>, int (*)(void*)> now(cap_get_proc(), cap_free);
    if (!now) throw_errno("netd isolation: cap_get_proc");
    std::unique_ptr<std::remove_pointer_t<cap_t>, int (*)(void*)> kept_set(cap_init(), cap_free);
    if (!kept_set) throw_errno("netd isolation: cap_init");
    for (cap_value_t c : kKeptCapabilities) {
        for (cap_flag_t flag : {CAP_EFFECTIVE, CAP_PERMITTED}) {
            cap_flag_value_t held = CAP_CLEAR;
            if (cap_get_flag(now.get(), c, flag, &held) != 0) throw_errno("netd isolation: cap_get_flag");
            if (held == CAP_SET && cap_set_flag(kept_set.get(), flag, 1, &c, CAP_SET) != 0)
                throw_errno("netd isolation: cap_set_flag");
        }
    }
    if (cap_set_proc(kept_set.get()) != 0) throw_errno("netd isolation: cap_set_proc");

    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw_errno("netd isolation: PR_SET_NO_NEW_PRIVS");
}

}  // namespace tether::hooks
