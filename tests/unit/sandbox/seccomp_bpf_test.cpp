// The closures filter run on synthetic syscalls by a small classic-BPF
// interpreter: this reaches what the machine cannot perform (i386 int 0x80 on
// a VM without ia32 emulation, x32 on a kernel built without it) and checks
// the exact action the kernel would get.
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <vector>

#include "runtime/core/unique_fd.hpp"
#include "runtime/sandbox/seccomp_closures.hpp"

namespace tether::sandbox {
namespace {

std::vector<sock_filter> exported_program(bool audit) {
    const SeccompFilter filter = build_seccomp_closures(audit);
    const UniqueFd memory(memfd_create("closures-bpf", MFD_CLOEXEC));
    if (seccomp_export_bpf(filter.get(), memory.get()) != 0) throw std::runtime_error("export");
    std::vector<sock_filter> program(lseek(memory.get(), 0, SEEK_CUR) / sizeof(sock_filter));
    if (pread(memory.get(), program.data(), program.size() * sizeof(sock_filter), 0) < 0)
        throw std::runtime_error("pread");
    return program;
}

// The subset of classic BPF that seccomp filters use; anything else fails the test.
std::uint32_t run_program(const std::vector<sock_filter>& program, const seccomp_data& data) {
    std::uint32_t a = 0, x = 0, scratch[BPF_MEMWORDS] = {};
    const auto* bytes = reinterpret_cast<const unsigned char*>(&data);
    for (std::size_t pc = 0; pc < program.size(); ++pc) {
        const sock_filter& op = program[pc];
        switch (op.code) {
            case BPF_LD | BPF_W | BPF_ABS: std::memcpy(&a, bytes + op.k, 4); break;
            case BPF_LD | BPF_IMM: a = op.k; break;
            case BPF_LD | BPF_MEM: a = scratch[op.k]; break;
            case BPF_LDX | BPF_IMM: x = op.k; break;
            case BPF_ST: scratch[op.k] = a; break;
            case BPF_STX: scratch[op.k] = x; break;
            case BPF_MISC | BPF_TAX: x = a; break;
            case BPF_MISC | BPF_TXA: a = x; break;
            case BPF_ALU | BPF_AND | BPF_K: a &= op.k; break;
            case BPF_ALU | BPF_OR | BPF_K: a |= op.k; break;
            case BPF_JMP | BPF_JA: pc += op.k; break;
            case BPF_JMP | BPF_JEQ | BPF_K: pc += (a == op.k) ? op.jt : op.jf; break;
            case BPF_JMP | BPF_JGT | BPF_K: pc += (a > op.k) ? op.jt : op.jf; break;
            case BPF_JMP | BPF_JGE | BPF_K: pc += (a >= op.k) ? op.jt : op.jf; break;
            case BPF_JMP | BPF_JSET | BPF_K: pc += (a & op.k) ? op.jt : op.jf; break;
            case BPF_RET | BPF_K: return op.k;
            case BPF_RET | BPF_A: return a;
            default: throw std::runtime_error("unsupported BPF opcode " + std::to_string(op.code));
        }
    }
    throw std::runtime_error("program fell off its end");
}

seccomp_data call(std::uint32_t arch, int nr, std::vector<std::uint64_t> args = {}) {
    seccomp_data data{};
    data.arch = arch;
    data.nr = nr;
    for (std::size_t i = 0; i < args.size(); ++i) data.args[i] = args[i];
    return data;
}

constexpr std::uint32_t errno_action(int error) { return SECCOMP_RET_ERRNO | error; }

TEST(SeccompBpf, NonNativeAbisGetEnosys) {
    const auto program = exported_program(false);
    EXPECT_EQ(run_program(program, call(AUDIT_ARCH_I386, 20)), errno_action(ENOSYS));      // getpid
    EXPECT_EQ(run_program(program, call(AUDIT_ARCH_I386, 102)), errno_action(ENOSYS));     // socketcall
    // x32 shares the x86_64 arch token and sets bit 30 of the syscall number.
    EXPECT_EQ(run_program(program, call(AUDIT_ARCH_X86_64, 0x40000000 | 41, {AF_PACKET})),
              errno_action(ENOSYS));
}

TEST(SeccompBpf, NativeCallsAreJudgedByTheirArguments) {
    const auto program = exported_program(false);
    EXPECT_EQ(run_program(program, call(AUDIT_ARCH_X86_64, SYS_getpid)), SECCOMP_RET_ALLOW);
    EXPECT_EQ(run_program(program, call(AUDIT_ARCH_X86_64, SYS_socket, {AF_INET, SOCK_STREAM, 0})),
              SECCOMP_RET_ALLOW);
    EXPECT_EQ(run_program(program, call(AUDIT_ARCH_X86_64, SYS_socket, {AF_PACKET, SOCK_RAW, 0})),
              errno_action(EAFNOSUPPORT));
    EXPECT_EQ(run_program(program, call(AUDIT_ARCH_X86_64, SYS_socket,
                                        {0xffffffff00000000ULL | AF_PACKET, SOCK_RAW, 0})),
              errno_action(EAFNOSUPPORT));
    // High junk on an allowed call is the kernel's business, not a denial.
    EXPECT_EQ(run_program(program, call(AUDIT_ARCH_X86_64, SYS_socket,
                                        {(1ULL << 40) | AF_INET, SOCK_STREAM, (1ULL << 33) | 6})),
              SECCOMP_RET_ALLOW);
    EXPECT_EQ(run_program(program, call(AUDIT_ARCH_X86_64, SYS_socket,
                                        {AF_INET6, SOCK_STREAM, (1ULL << 33) | IPPROTO_MPTCP})),
              errno_action(EPROTONOSUPPORT));
}

TEST(SeccompBpf, AuditModeLogsEverything) {
    const auto program = exported_program(true);
    EXPECT_EQ(run_program(program, call(AUDIT_ARCH_I386, 20)), SECCOMP_RET_LOG);
    EXPECT_EQ(run_program(program, call(AUDIT_ARCH_X86_64, SYS_io_uring_setup)), SECCOMP_RET_LOG);
    EXPECT_EQ(run_program(program, call(AUDIT_ARCH_X86_64, SYS_socket, {AF_PACKET, SOCK_RAW, 0})),
              SECCOMP_RET_LOG);
    EXPECT_EQ(run_program(program, call(AUDIT_ARCH_X86_64, SYS_socket, {AF_INET, SOCK_DGRAM, 0})),
              SECCOMP_RET_ALLOW);
}

}  // namespace
}  // namespace tether::sandbox
