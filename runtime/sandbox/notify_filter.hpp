// The seccomp filter the container's init loads during `create` so that
// tether-netd's supervisor sees every socket call that names a destination
// (only where the cgroup socket programs cannot be attached: hooks/bpf). It
// lives with the runtime's other seccomp programs because the init loads it;
// the daemon only receives its listener (hooks/protocol.hpp).
//
// Handing the listener over: the init must NOT send the fd with sendmsg (its
// own filter would trap that call and nobody is listening yet). It writes the
// fd NUMBER over its sync pipe; the parent takes the fd with pidfd_getfd and
// passes it to tether-netd over <state dir>/netd.sock (hooks/protocol.hpp).
#pragma once

#include <string>
#include <vector>

#include "runtime/core/unique_fd.hpp"
#include "runtime/sandbox/seccomp_program.hpp"

namespace tether::sandbox {

// connect, bind, sendto, sendmsg, sendmmsg: the calls that carry a socket
// address. (listen, accept and recv* carry none worth deciding on.)
const std::vector<std::string>& notified_syscall_names();

// Builds the filter (every call in notified_syscall_names() ->
// SECCOMP_RET_USER_NOTIF, everything else allowed, foreign architectures
// killed: a 32-bit connect would reach the kernel undecided), loads it into
// the calling thread's process and returns the listener fd.
//
// Throws tether::Error. EBUSY means a filter in the chain already has a
// listener: the kernel allows one per chain, so a config whose own seccomp
// profile uses SCMP_ACT_NOTIFY cannot be combined with a network policy.
// Needs no_new_privs or CAP_SYS_ADMIN, like every seccomp filter.
UniqueFd load_network_notify_filter();

// The same in two steps: compiling (the slow part, libseccomp) and loading.
sandbox::SeccompProgram compile_network_notify_filter();
UniqueFd load_network_notify_program(const sandbox::SeccompProgram& program);

}  // namespace tether::sandbox
