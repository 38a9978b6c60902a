// The cgroup BPF programs that enforce SocketRules in the kernel, at the
// moment of the real call, on the kernel's own copy of the address: no thread
// of the container can change what was decided after the decision (the
// fd-swap and memory-swap races a seccomp supervisor has to defend against do
// not exist here).
//
//   connect4/6   TCP and UDP connect, TCP Fast Open (sendto MSG_FASTOPEN)
//   sendmsg4/6   UDP sendto/sendmsg/sendmmsg with an address
//   bind4/6      the bind-port list; on the host network non-loopback binds
//                are refused and wildcard binds narrowed to loopback
//   post_bind4/6 host network: record the ports the sandbox bound, which it
//                may then reach (decision.cpp "sandbox-bound-port")
//   recvmsg4/6   allowlist-only DNS: the source of the responder's reply
//                becomes the address the query was sent to
//   handoff      transparent egress (sock_ops, TCP_CONNECT_CB): files the
//                original destination under the client's address and port
// With transparent egress on, connect4/6 rewrite a TCP connect to a
// non-loopback address into one to the proxy's transparent listener on the
// same family's loopback, and record where it was going.
// With the DNS responder on, connect4/6 and sendmsg4/6 rewrite UDP to port 53
// of any address into the responder's loopback port first (before any other
// rule: no UDP query leaves the namespace), filing the original destination
// under the socket's cookie for recvmsg4/6; stub resolvers (glibc, musl)
// drop a reply whose source is not the server they asked.
// A v6 program decides a v4-mapped address by the IPv4 rules.
// A refused call gets the rule's errno through bpf_set_retval (5.18) and an
// event in the ring buffer; allowed connects and binds get an event too
// (without waking the reader), allowed datagrams do not (one per packet would
// flood the log).
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <string>
#include <vector>

#include "hooks/bpf/socket_rules.hpp"

namespace tether::hooks::bpf {

enum class EventOp : uint8_t { connect = 1, sendmsg = 2, bind = 3 };
enum class EventVerdict : uint8_t { allow = 0, deny = 1, audit_deny = 2 };

// One ring-buffer record, written by the programs, read by SocketEventReader.
struct SocketEvent {
    uint64_t pid_tgid;     // tgid << 32 | tid, in the initial pid namespace
    char comm[16];
    uint32_t address[4];   // as the caller gave it: v4 in [0], network order
    uint32_t port_be;      // network order in the low 16 bits
    uint8_t op;            // EventOp
    uint8_t verdict;       // EventVerdict
    uint8_t rule;          // Rule
    uint8_t family;        // 4 or 6
    uint32_t socket_type;  // SOCK_STREAM, SOCK_DGRAM
    uint32_t reserved;
};
static_assert(sizeof(SocketEvent) == 56);

// Transparent egress: where a redirected connect was going. Written by
// connect4/6 under the socket's cookie, moved by the sock_ops program under
// the client's address and port (ClientKey) once the kernel has chosen the
// source port, and taken by the proxy with its accepted socket's peer
// address (hooks/bpf/original_destinations.hpp says why this key).
struct OriginalDestination {
    uint32_t address[4];  // as the caller gave it, network order: v4 in [0] (family 4), or v6 (family 6)
    uint32_t port_be;     // network order in the low 16 bits
    uint32_t family;      // 4 or 6
};
static_assert(sizeof(OriginalDestination) == 24);

// The client end of a connection to the transparent listener: its address as
// IPv6 (IPv4 as ::ffff:a.b.c.d, network order) and its port in host order.
struct ClientKey {
    uint32_t address[4];
    uint32_t port;
};
static_assert(sizeof(ClientKey) == 20);

struct ProgramMaps {
    int events = -1;       // BPF_MAP_TYPE_RINGBUF
    int bound_ports = -1;  // BPF_MAP_TYPE_ARRAY, one 8 KiB bitmap (host network only)
    // Transparent egress only (BPF_MAP_TYPE_LRU_HASH):
    int original_by_cookie = -1;  // u64 cookie -> OriginalDestination
    int original_by_client = -1;  // ClientKey -> OriginalDestination
    // DNS responder only (BPF_MAP_TYPE_LRU_HASH): u64 cookie -> the last
    // OriginalDestination a UDP socket sent a query to.
    int dns_by_cookie = -1;
};
inline constexpr uint32_t kBoundPortsBitmapBytes = 65536 / 8;

struct SocketProgram {
    std::string name;  // "connect4", ... (also the kernel's program name)
    bpf_prog_type type;
    bpf_attach_type attach_type;
    std::vector<bpf_insn> code;
};

// The programs for `rules` (post_bind only when rules.track_bound_ports; the
// sock_ops program "handoff" only when rules.transparent_port; recvmsg4/6
// only when rules.dns_port).
std::vector<SocketProgram> build_socket_programs(const SocketRules& rules, const ProgramMaps& maps);

}  // namespace tether::hooks::bpf
