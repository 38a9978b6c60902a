// The cgroup BPF programs that enforce SocketRules in the kernel, at the
// moment of the real call, on the kernel's own copy of the address: no thread
// of the container can change what was decided after the decision (the
// fd-swap and memory-swap races a seccomp supervisor has to defend against do
// not exist here).
//
// One set for every container (issue 23): each rule is a test of the
// container's ProgramPolicy (program_policy.hpp), which the program reads
// from the cgroup storage of the cgroup it is attached to. The set is loaded
// and verified once per host (program_set.hpp); a container attaches the
// programs its rules need and writes its policy.
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
// event in the container's ring buffer; allowed connects and binds get an
// event too (without waking the reader), allowed datagrams do not (one per
// packet would flood the log). A cgroup whose policy is not written yet
// (ProgramPolicy::ready) has every call refused with EPERM.
//
// The per-container maps (the event ring, the transparent and DNS maps) are
// found in shared hash-of-maps keyed by the policy's slot: a program cannot
// hold a map per container. The slots are made ahead of the containers and
// handed out (container_slots.hpp): putting a map into a hash-of-maps waits
// for an RCU grace period (7-20 ms here), which no create should wait for.
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

// The maps the programs are generated against, shared by every container.
struct SharedMaps {
    int policies = -1;  // BPF_MAP_TYPE_CGROUP_STORAGE, u64 cgroup id -> ProgramPolicy
    // BPF_MAP_TYPE_HASH_OF_MAPS, u64 slot -> the container's own map:
    int events = -1;              // -> RINGBUF (kEventRingBytes)
    int original_by_cookie = -1;  // -> LRU_HASH u64 cookie -> OriginalDestination (transparent egress)
    int original_by_client = -1;  // -> LRU_HASH ClientKey -> OriginalDestination (transparent egress)
    int dns_by_cookie = -1;       // -> LRU_HASH u64 cookie -> OriginalDestination (DNS responder)
};

// Which containers attach a program.
enum class ProgramUse { always, bound_ports, dns_responder, transparent_egress };
bool program_needed(ProgramUse use, const SocketRules& rules);

struct SocketProgram {
    std::string name;  // "connect4", ... (also the kernel's program name, after "tether_")
    bpf_prog_type type;
    bpf_attach_type attach_type;
    ProgramUse use;
    std::vector<bpf_insn> code;
};

// The whole set, in a fixed order.
std::vector<SocketProgram> build_socket_programs(const SharedMaps& maps);

}  // namespace tether::hooks::bpf
