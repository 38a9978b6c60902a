// A container's SocketRules as data: the value of the cgroup storage that
// the shared socket programs (socket_programs.hpp) read at every call.
//
// Why data and not immediates (issue 23): the verifier checked a program set
// generated per container on every sandboxed create (3 ms of the daemon's
// start-up, on the init's path). The programs are now generated once, with
// every rule a test of a field here; they are loaded and verified once per
// host (program_set.hpp) and each container only attaches them and writes
// this value.
//
// Where the value lives: a BPF_MAP_TYPE_CGROUP_STORAGE map with 8-byte keys
// (kernel 5.9). The kernel makes one value per cgroup when the first program
// using the map is attached there, shares it among all the programs attached
// to that cgroup, and frees it with the cgroup; bpf_get_local_storage()
// returns the value of the cgroup the running program is attached to. A
// program attached to a container's cgroup therefore reads that container's
// rules, whatever cgroup below it the caller is in, and a sandbox nested in
// another runs both attachments, each with its own rules (any refusal
// refuses, as with per-container programs).
//
// A new value is all zeroes, and `ready` 0 refuses every call (EPERM, no
// event): between the attach and the write of the rules nothing is allowed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "hooks/bpf/socket_rules.hpp"

namespace tether::hooks::bpf {

inline constexpr uint32_t kPolicyReady = 0x74657468;  // "teth": the rules below are written
// Resolvers a program compares a port-53 destination with. Resolvers beyond
// these (resolv.conf lists 3 that stub resolvers use) are not compared: a
// query to one then meets the loopback and egress rules, which refuse it,
// so a long list can only refuse more, never allow more.
inline constexpr size_t kMaxPolicyResolvers = 8;
inline constexpr size_t kPortBitmapWords = 65536 / 32;

struct PolicyResolver {
    uint32_t address[4];  // network order: IPv4 in [0] (family 4), or IPv6 (family 6)
    uint32_t family;      // 4, 6, or 0 for an unused slot (matches nothing)
    uint32_t reserved;
};
static_assert(sizeof(PolicyResolver) == 24);

// Every field the programs read is 32 or 64 bits (the programs load words).
struct ProgramPolicy {
    uint64_t cgroup_id;         // the cgroup this value belongs to (its storage key)
    uint64_t slot;              // key of the container's maps in the shared outer maps (container_slots.hpp)
    uint32_t ready;             // kPolicyReady
    uint32_t host_network;      // 1: NetworkMode::host
    uint32_t allow_dns;         // 1: listed resolvers are reachable on port 53
    uint32_t audit;             // 1: refusals are logged and allowed
    uint32_t track_bound_ports; // 1: ports the sandbox bound are reachable (host network)
    uint32_t check_bind_ports;  // 1: binds are checked against bind_ports
    uint32_t proxy_port;        // host order, 0: none
    uint32_t transparent_port_be;  // network order in the low 16 bits, 0: off
    uint32_t dns_port_be;          // network order in the low 16 bits, 0: off
    uint32_t reserved;
    PolicyResolver resolvers[kMaxPolicyResolvers];
    // Bitmaps of 65536 ports, bit (port & 31) of word (port >> 5).
    uint32_t host_loopback_ports[kPortBitmapWords];
    uint32_t bind_ports[kPortBitmapWords];
    uint32_t bound_ports[kPortBitmapWords];  // written by the post-bind programs
};
static_assert(offsetof(ProgramPolicy, resolvers) == 56);
static_assert(offsetof(ProgramPolicy, bound_ports) + sizeof(ProgramPolicy::bound_ports) < 32767,
              "the programs reach every field with a 16-bit offset");

// The value for `rules` in the cgroup whose id is `cgroup_id`, whose maps are
// the slot `slot`'s (pure; on the heap: 24.6 KiB).
std::unique_ptr<ProgramPolicy> program_policy_for(const SocketRules& rules, uint64_t cgroup_id, uint64_t slot);

}  // namespace tether::hooks::bpf
