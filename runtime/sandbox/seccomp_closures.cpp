#include "runtime/sandbox/seccomp_closures.hpp"

#include <linux/netlink.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "runtime/core/error.hpp"

namespace tether::sandbox {
namespace {

// The socket type without SOCK_NONBLOCK / SOCK_CLOEXEC (the kernel's SOCK_TYPE_MASK).
constexpr std::uint32_t kSocketTypeMask = 0xf;
constexpr std::uint32_t kLow32 = 0xffffffffU;

struct Closures {
    scmp_filter_ctx ctx;
    bool audit;

    std::uint32_t action(int error) const { return audit ? SCMP_ACT_LOG : SCMP_ACT_ERRNO(error); }

    void add(int syscall, int error, const std::vector<scmp_arg_cmp>& conditions,
             const char* what) const {
        const int rc = seccomp_rule_add_array(ctx, action(error), syscall,
                                              static_cast<unsigned>(conditions.size()),
                                              conditions.data());
        if (rc < 0) throw Error(std::string("seccomp_rule_add (closures: ") + what + ")", -rc);
    }

    // One rule per block: argument `arg` (low 32 bits) outside `allowed`,
    // plus the fixed conditions every rule carries.
    void add_outside(int syscall, int error, unsigned arg, const std::vector<std::uint32_t>& allowed,
                     unsigned bits, const std::vector<scmp_arg_cmp>& fixed, const char* what) const {
        for (const auto& block : masked_blocks_excluding(allowed, bits)) {
            auto conditions = fixed;
            conditions.push_back(scmp_arg_cmp{arg, SCMP_CMP_MASKED_EQ, block.mask, block.value});
            add(syscall, error, conditions, what);
        }
    }
};

scmp_arg_cmp low32_equals(unsigned arg, std::uint32_t value) {
    return scmp_arg_cmp{arg, SCMP_CMP_MASKED_EQ, kLow32, value};
}

scmp_arg_cmp socket_type_equals(std::uint32_t type) {
    return scmp_arg_cmp{1, SCMP_CMP_MASKED_EQ, kSocketTypeMask, type};
}

void add_io_uring_rules(const Closures& closures) {
    for (int syscall : {SCMP_SYS(io_uring_setup), SCMP_SYS(io_uring_enter),
                        SCMP_SYS(io_uring_register)})
        closures.add(syscall, ENOSYS, {}, "io_uring");
}

// The cgroup socket programs that enforce the network policy
// (hooks/bpf) could be queried, detached or outvoted with bpf(2); a config
// that grants CAP_SYS_ADMIN or CAP_BPF must not make that possible.
void add_bpf_rules(const Closures& closures) { closures.add(SCMP_SYS(bpf), EPERM, {}, "bpf"); }

void add_socket_rules(const Closures& closures) {
    const std::vector<std::uint32_t> families = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK};
    for (int syscall : {SCMP_SYS(socket), SCMP_SYS(socketpair)})
        closures.add_outside(syscall, EAFNOSUPPORT, 0, families, 32, {}, "socket family");

    closures.add_outside(SCMP_SYS(socket), EPROTONOSUPPORT, 2, {NETLINK_ROUTE}, 32,
                         {low32_equals(0, AF_NETLINK)}, "netlink protocol");

    for (std::uint32_t family : {AF_INET, AF_INET6}) {
        const scmp_arg_cmp is_family = low32_equals(0, family);
        for (std::uint32_t type : {SOCK_RAW, SOCK_PACKET})
            closures.add(SCMP_SYS(socket), EPERM, {is_family, socket_type_equals(type)},
                         "raw/packet socket");
        // The four types above and below are disjoint, so one answer per call.
        closures.add_outside(SCMP_SYS(socket), ESOCKTNOSUPPORT, 1,
                             {SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_PACKET}, 4, {is_family},
                             "inet socket type");
        for (std::uint32_t type : {SOCK_STREAM, SOCK_DGRAM})
            closures.add_outside(SCMP_SYS(socket), EPROTONOSUPPORT, 2,
                                 {0, IPPROTO_TCP, IPPROTO_UDP}, 32,
                                 {is_family, socket_type_equals(type)}, "inet protocol");
    }
}

void collect_blocks(std::uint64_t prefix, unsigned prefix_length, unsigned bits,
                    const std::vector<std::uint32_t>& allowed, std::vector<MaskedValue>& blocks) {
    const unsigned free_bits = bits - prefix_length;
    const std::uint64_t first = prefix << free_bits;
    const std::uint64_t last = first + ((std::uint64_t{1} << free_bits) - 1);
    const bool holds_allowed = std::any_of(allowed.begin(), allowed.end(), [&](std::uint32_t v) {
        return v >= first && v <= last;
    });
    if (!holds_allowed) {
        const std::uint64_t all = (std::uint64_t{1} << bits) - 1;
        const std::uint64_t mask = all & ~((std::uint64_t{1} << free_bits) - 1);
        blocks.push_back({static_cast<std::uint32_t>(mask), static_cast<std::uint32_t>(first)});
        return;
    }
    if (free_bits == 0) return;  // exactly an allowed value
    collect_blocks(prefix << 1, prefix_length + 1, bits, allowed, blocks);
    collect_blocks((prefix << 1) | 1, prefix_length + 1, bits, allowed, blocks);
}

}  // namespace

void SeccompFilterRelease::operator()(void* ctx) const { seccomp_release(ctx); }

std::vector<MaskedValue> masked_blocks_excluding(const std::vector<std::uint32_t>& allowed,
                                                 unsigned bits) {
    std::vector<MaskedValue> blocks;
    collect_blocks(0, 0, bits, allowed, blocks);
    return blocks;
}

SeccompFilter build_seccomp_closures(bool audit) {
    SeccompFilter filter(seccomp_init(SCMP_ACT_ALLOW));
    if (!filter) throw Error("seccomp_init (closures)", ENOMEM);
    const std::uint32_t badarch = audit ? SCMP_ACT_LOG : SCMP_ACT_ERRNO(ENOSYS);
    // Only the native ABI is in the filter, so i386 (int 0x80) and x32 calls
    // take the bad-architecture action: their numbers mean other syscalls.
    if (int rc = seccomp_attr_set(filter.get(), SCMP_FLTATR_ACT_BADARCH, badarch); rc < 0)
        throw Error("seccomp_attr_set SCMP_FLTATR_ACT_BADARCH (closures)", -rc);
    const Closures closures{filter.get(), audit};
    add_io_uring_rules(closures);
    add_bpf_rules(closures);
    add_socket_rules(closures);
    return filter;
}

SeccompProgram compile_seccomp_closures(bool audit) {
    const SeccompFilter filter = build_seccomp_closures(audit);
    return export_seccomp_program(filter.get(), "seccomp closures");
}

void load_compiled_closures(const SeccompProgram& program) {
    // What seccomp_load() does for this filter: SCMP_FLTATR_CTL_NNP is on
    // (libseccomp's default), TSYNC, LOG and SSB are off.
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw_errno("seccomp closures: PR_SET_NO_NEW_PRIVS");
    if (load_seccomp_program(program, 0) != 0) throw_errno("seccomp closures: seccomp(SECCOMP_SET_MODE_FILTER)");
}

void load_seccomp_closures(bool audit) { load_compiled_closures(compile_seccomp_closures(audit)); }

}  // namespace tether::sandbox
