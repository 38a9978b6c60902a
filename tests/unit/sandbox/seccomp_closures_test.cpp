// The static seccomp closures, loaded in a forked child: each way around the
// policy is tried and must fail with its documented errno, while plain TCP,
// UDP, unix and route-netlink sockets keep working. Every attack is first
// tried without the filter, so a test cannot pass because the kernel refuses
// anyway.
#include <gtest/gtest.h>
#include <linux/io_uring.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/sandbox/seccomp_closures.hpp"
#include "tests/unit/sandbox/child_process.hpp"
#include "tests/unit/sandbox/net_helpers.hpp"

namespace tether::sandbox {
namespace {

using testing::outcome;
using testing::run_in_child;

std::string socket_outcome(long family, int type, int protocol) {
    const long fd = syscall(SYS_socket, family, type, protocol);
    const std::string result = outcome(fd);
    if (fd >= 0) close(static_cast<int>(fd));
    return result;
}

std::string socketpair_outcome(int family, int type) {
    int fds[2];
    const int rc = socketpair(family, type, 0, fds);
    const std::string result = outcome(rc);
    if (rc == 0) {
        close(fds[0]);
        close(fds[1]);
    }
    return result;
}

std::string io_uring_setup_outcome() {
    io_uring_params params{};
    const long fd = syscall(SYS_io_uring_setup, 4, &params);
    const std::string result = outcome(fd);
    if (fd >= 0) close(static_cast<int>(fd));
    return result;
}

// getpid through the i386 ABI (int 0x80, syscall 20): the filter's x86_64
// syscall numbers mean nothing there. Run in its own process because kernels
// without ia32 emulation (or hypervisors without it) answer with SIGSEGV.
std::string i386_getpid_outcome() {
    const auto probe = run_in_child([] {
        long result = 20;
        asm volatile("int $0x80" : "+a"(result) : : "memory");
        if (result < 0) {
            errno = static_cast<int>(-result);
            return outcome(-1);
        }
        return std::string(result == getpid() ? "ok" : "wrong pid");
    });
    return probe.exit_code == 0 ? probe.output : "crashed";
}

// The attacks, one line each, so a failure shows every answer at once.
std::string attacks() {
    std::string report;
    report += "io_uring=" + io_uring_setup_outcome();
    report += " packet=" + socket_outcome(AF_PACKET, SOCK_RAW, 0);
    report += " vsock=" + socket_outcome(AF_VSOCK, SOCK_STREAM, 0);
    report += " raw=" + socket_outcome(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    report += " raw6_cloexec=" + socket_outcome(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
    report += " inet_packet=" + socket_outcome(AF_INET, SOCK_PACKET, 0);
    report += " mptcp=" + socket_outcome(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
    report += " mptcp6=" + socket_outcome(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_MPTCP);
    report += " ping=" + socket_outcome(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
    report += " sctp=" + socket_outcome(AF_INET, SOCK_SEQPACKET, 0);
    report += " netlink_audit=" + socket_outcome(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT);
    // The kernel reads an int from the register; junk above bit 31 must not
    // turn AF_PACKET into a family the filter does not recognise.
    report += " packet_high_bits=" + socket_outcome((1L << 32) | AF_PACKET, SOCK_RAW, 0);
    report += " socketpair_packet=" + socketpair_outcome(AF_PACKET, SOCK_DGRAM);
    report += " i386=" + i386_getpid_outcome();
    return report;
}

std::string allowed() {
    std::string report;
    report += "tcp=" + socket_outcome(AF_INET, SOCK_STREAM, 0);
    report += " tcp_explicit=" + socket_outcome(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
    report += " udp=" + socket_outcome(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    report += " tcp6=" + socket_outcome(AF_INET6, SOCK_STREAM, 0);
    report += " udp6=" + socket_outcome(AF_INET6, SOCK_DGRAM, 0);
    report += " unix=" + socket_outcome(AF_UNIX, SOCK_STREAM, 0);
    report += " unix_pair=" + socketpair_outcome(AF_UNIX, SOCK_STREAM);
    report += " netlink_route=" + socket_outcome(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    return report;
}

std::string load_then(bool audit, std::string (*what)()) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw std::runtime_error("no_new_privs");
    load_seccomp_closures(audit);
    return what();
}

TEST(SeccompClosures, TheAttacksWorkWithoutTheFilter) {
    // Root in the host's namespaces: everything below is possible, which is
    // what makes the next test meaningful. (SOCK_PACKET in AF_INET and SCTP
    // are refused by the kernel itself, or by a missing module.)
    const auto result = run_in_child(attacks);
    EXPECT_NE(result.output.find("io_uring=ok"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("packet=ok"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find(" raw=ok"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("mptcp=ok"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("netlink_audit=ok"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("packet_high_bits=ok"), std::string::npos) << result.output;
}

// int 0x80 is unusable on some machines (this CI VM answers SIGSEGV); the
// i386 closure is then checked on the filter program itself (seccomp_bpf_test.cpp).
std::string expected_i386() { return i386_getpid_outcome() == "ok" ? "ENOSYS" : "crashed"; }

TEST(SeccompClosures, EveryAttackFailsWithItsErrno) {
    const std::string i386 = expected_i386();
    const auto result = run_in_child([] { return load_then(false, attacks); });
    EXPECT_EQ(result.output,
              "io_uring=ENOSYS packet=EAFNOSUPPORT vsock=EAFNOSUPPORT raw=EPERM "
              "raw6_cloexec=EPERM inet_packet=EPERM mptcp=EPROTONOSUPPORT "
              "mptcp6=EPROTONOSUPPORT ping=EPROTONOSUPPORT sctp=ESOCKTNOSUPPORT "
              "netlink_audit=EPROTONOSUPPORT packet_high_bits=EAFNOSUPPORT "
              "socketpair_packet=EAFNOSUPPORT i386=" + i386);
    EXPECT_EQ(result.exit_code, 0);
}

// The init compiles the program while the hooks run and loads it later
// (sandbox_setup.hpp): compiled in the parent here, loaded in the child,
// with no_new_privs set by the load as libseccomp's seccomp_load() does.
TEST(SeccompClosures, AProgramCompiledAheadIsTheSameFilterAndSetsNoNewPrivs) {
    const SeccompProgram program = compile_seccomp_closures(false);
    const std::string i386 = expected_i386();
    const auto result = run_in_child([&program] {
        if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0) return std::string("no_new_privs already set");
        load_compiled_closures(program);
        std::string nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? "nnp=1 " : "nnp=0 ";
        return nnp + attacks();
    });
    EXPECT_EQ(result.output,
              "nnp=1 io_uring=ENOSYS packet=EAFNOSUPPORT vsock=EAFNOSUPPORT raw=EPERM "
              "raw6_cloexec=EPERM inet_packet=EPERM mptcp=EPROTONOSUPPORT "
              "mptcp6=EPROTONOSUPPORT ping=EPROTONOSUPPORT sctp=ESOCKTNOSUPPORT "
              "netlink_audit=EPROTONOSUPPORT packet_high_bits=EAFNOSUPPORT "
              "socketpair_packet=EAFNOSUPPORT i386=" + i386);
}

TEST(SeccompClosures, PlainSocketsKeepWorking) {
    const auto result = run_in_child([] { return load_then(false, allowed); });
    EXPECT_EQ(result.output,
              "tcp=ok tcp_explicit=ok udp=ok tcp6=ok udp6=ok unix=ok unix_pair=ok netlink_route=ok");
}

TEST(SeccompClosures, TcpConnectToLoopbackStillWorks) {
    auto [server, port] = testing::listen_on_loopback();
    ASSERT_TRUE(server);
    const auto result = run_in_child([port = port] {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw std::runtime_error("no_new_privs");
        load_seccomp_closures(false);
        return testing::connect_outcome(port);
    });
    EXPECT_EQ(result.output, "ok");
}

TEST(SeccompClosures, AuditModeLogsInsteadOfFailing) {
    const auto result = run_in_child([] { return load_then(true, attacks); });
    EXPECT_NE(result.output.find("io_uring=ok"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("packet=ok"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("mptcp=ok"), std::string::npos) << result.output;
}

TEST(SeccompClosures, FilterStaysWellBelowTheKernelLimit) {
    // Every socket() runs through this program: keep it far below the
    // kernel's 4096-instruction limit (about 800 today).
    const SeccompFilter filter = build_seccomp_closures(false);
    const UniqueFd memory(memfd_create("closures-bpf", MFD_CLOEXEC));
    ASSERT_EQ(seccomp_export_bpf(filter.get(), memory.get()), 0);
    const off_t instructions = lseek(memory.get(), 0, SEEK_CUR) / 8;
    EXPECT_GT(instructions, 100);
    EXPECT_LT(instructions, 1500);
}

}  // namespace
}  // namespace tether::sandbox
