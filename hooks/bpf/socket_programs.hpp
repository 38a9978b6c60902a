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

struct ProgramMaps {
    int events = -1;       // BPF_MAP_TYPE_RINGBUF
    int bound_ports = -1;  // BPF_MAP_TYPE_ARRAY, one 8 KiB bitmap (host network only)
};
inline constexpr uint32_t kBoundPortsBitmapBytes = 65536 / 8;

struct SocketProgram {
    std::string name;  // "connect4", ... (also the kernel's program name)
    bpf_prog_type type;
    bpf_attach_type attach_type;
    std::vector<bpf_insn> code;
};

// The programs for `rules` (post_bind only when rules.track_bound_ports).
std::vector<SocketProgram> build_socket_programs(const SocketRules& rules, const ProgramMaps& maps);

}  // namespace tether::hooks::bpf
