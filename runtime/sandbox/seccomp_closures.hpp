// The static seccomp closures of a sandbox: a plain BPF filter (no user
// notification) that closes the paths around Landlock and the supervisor:
//   io_uring_setup / io_uring_enter / io_uring_register  -> ENOSYS
//     (io_uring performs connect/openat without the syscalls other rules see)
//   socket / socketpair, family not AF_UNIX / AF_INET / AF_INET6 / AF_NETLINK
//                                                       -> EAFNOSUPPORT
//     (AF_PACKET, AF_VSOCK, AF_BLUETOOTH, ... reach beyond the policy)
//   socket(AF_NETLINK, *, protocol != NETLINK_ROUTE)    -> EPROTONOSUPPORT
//     (route is what getaddrinfo and `ip` need; audit, uevent, diag are not)
//   socket(AF_INET/AF_INET6, SOCK_RAW or SOCK_PACKET)   -> EPERM
//     (hand-made packets bypass every TCP rule)
//   socket(AF_INET/AF_INET6, other than STREAM / DGRAM) -> ESOCKTNOSUPPORT
//   socket(AF_INET/AF_INET6, STREAM / DGRAM, protocol not 0 / TCP / UDP)
//                                                       -> EPROTONOSUPPORT
//     (MPTCP, SCTP, UDP-Lite, ICMP "ping" sockets: Landlock's TCP rules do
//      not see them; MPTCP passes them untouched)
//   any syscall of a non-native ABI (i386 int 0x80, x32) -> ENOSYS
//     (the rules above only name x86_64 syscall numbers)
// The type is compared without SOCK_NONBLOCK / SOCK_CLOEXEC, and every
// argument on its low 32 bits only, which is what the kernel reads from an
// int argument: junk in the upper half cannot slip past a rule.
// Audit mode: the same rules log (SCMP_ACT_LOG) instead of failing.
//
// The filter is separate from the config's profile (filters stack; the most
// restrictive answer wins). Load it before the config's profile, which may
// forbid seccomp(2) itself.
#pragma once

#include "runtime/sandbox/seccomp_program.hpp"

#include <cstdint>
#include <memory>
#include <vector>

namespace tether::sandbox {

struct SeccompFilterRelease {
    void operator()(void* ctx) const;
};
// An owned libseccomp scmp_filter_ctx.
using SeccompFilter = std::unique_ptr<void, SeccompFilterRelease>;

// Builds the closures filter (not loaded), for tests and for exporting.
SeccompFilter build_seccomp_closures(bool audit);

// Builds and loads the filter on the calling thread. Throws tether::Error.
void load_seccomp_closures(bool audit);

// The same in two steps: compiling (the slow part) and loading, which sets
// no_new_privs first and uses no flags, exactly as libseccomp's
// seccomp_load() does with this filter's attributes.
SeccompProgram compile_seccomp_closures(bool audit);
void load_compiled_closures(const SeccompProgram& program);

// A (mask, value) pair: an argument x matches when (x & mask) == value.
struct MaskedValue {
    std::uint32_t mask = 0;
    std::uint32_t value = 0;
    bool operator==(const MaskedValue&) const = default;
};

// The fewest aligned blocks that cover every value of `bits` bits except the
// allowed ones: libseccomp has no "not in set" comparison, and masked
// equality on the low word is the comparison junk upper bits cannot fool.
std::vector<MaskedValue> masked_blocks_excluding(const std::vector<std::uint32_t>& allowed,
                                                 unsigned bits);

}  // namespace tether::sandbox
