// The socket programs and their shared maps, loaded once per host and kept
// in bpffs for every later container (issue 23).
//
// Before, each sandboxed create generated, loaded and verified its own
// programs: 3 ms of tether-netd's start-up, most of what the container's
// init waited for. The programs now read each container's rules from a
// cgroup storage map (program_policy.hpp), so one verified set serves every
// container: the first sandbox on a host loads it and pins it under
// /sys/fs/bpf/tether/<digest>, later ones open the pins (BPF_OBJ_GET, a few
// microseconds each) and only attach.
//
// The digest covers the generated instructions and the maps' shapes, so a
// tether whose programs differ never opens another build's set; a new set
// unpins the others (containers using them keep them: an attachment and the
// daemons' fds hold the objects, not the pins).
//
// Two first sandboxes at once each load a set and pin it in a directory of
// their own, then rename it into place (renameat2 RENAME_NOREPLACE): one
// wins, the other opens the winner's pins. A set that cannot be pinned (no
// bpffs, a read-only one) is used unpinned: the container is enforced as
// before, it only pays the load.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "hooks/bpf/socket_programs.hpp"
#include "runtime/core/unique_fd.hpp"

namespace tether::hooks::bpf {

// Ring buffer size: 16 KiB holds 256 events (56 bytes and an 8-byte
// header each). The reader empties it at most kBatchMs (5 ms) after the
// first record wakes it, so it keeps up with 51,000 calls a second; a
// connect+accept+close loop in a sandbox takes about 72 us (14,000 a
// second). A flood of UDP sends to allowed ports can outrun any size
// (records beyond a full ring are not logged; the calls are still
// decided). The data is mapped twice into the daemon (the kernel's
// wrap-around), so each KiB here is 2 KiB of its RSS: 64 KiB cost 132 KiB
// of RSS, 16 KiB cost 36 (issue 23).
inline constexpr uint32_t kEventRingBytes = 16 * 1024;
// Redirected connects between connect() and the proxy's accept (the
// listener's backlog is 1024). An LRU map: when a flood of connects that
// never reach the proxy fills it, the oldest entries go (their connections,
// if they ever arrive, are refused). Preallocated: two maps of this many
// entries are about 0.8 MiB of kernel memory per transparent sandbox.
inline constexpr uint32_t kOriginalDestinationEntries = 4096;
// UDP sockets with a query in flight to the DNS responder (one entry per
// socket, its last query's destination). LRU: a socket pushed out by a flood
// of others gets the responder's own address as the reply's source, which
// its resolver drops; it then asks again.
inline constexpr uint32_t kDnsQueryEntries = 1024;

// A container's own maps, one of each kind it needs, put into the shared
// outer map of its kind under its cgroup id. Every map of a kind has the
// same shape (the kernel requires it of a hash-of-maps' inner maps).
enum class ContainerMap { events, original_by_cookie, original_by_client, dns_by_cookie };
UniqueFd make_container_map(ContainerMap kind);

// The slot pool's bookkeeping (container_slots.hpp), kept with the set:
// BPF_MAP_TYPE_HASH maps, u64 slot keys.
struct SlotPoolMaps {
    int free_basic = -1;        // slot -> u8: made, nobody's (an event ring)
    int free_transparent = -1;  // slot -> u8: made, nobody's (a ring and the three egress maps)
    int owners = -1;            // slot -> u64 cgroup id of the container using it
};

struct LoadedProgram {
    std::string name;
    bpf_attach_type attach_type;
    ProgramUse use;
    UniqueFd fd;
};

class ProgramSet {
public:
    // Creates the shared maps and loads every program (the verifier's work;
    // the programs load on two threads). Throws tether::Error naming the
    // program or map that failed.
    static ProgramSet load();
    // The set pinned in `dir` (a bpffs directory) for this build, or one
    // loaded now and pinned there. Throws only when loading fails.
    static ProgramSet pinned_in(const std::string& dir);
    // The host's set: pinned_in(/sys/fs/bpf/tether), bpffs mounted on
    // /sys/fs/bpf first when nothing is (as systemd does at boot); a set
    // loaded unpinned when neither works.
    static std::shared_ptr<const ProgramSet> shared();

    const SharedMaps& maps() const { return maps_; }
    const SlotPoolMaps& pool() const { return pool_; }
    const std::vector<LoadedProgram>& programs() const { return programs_; }
    // True when the set came from pins (no program was loaded).
    bool reused() const { return reused_; }
    // Hex digest of the programs and maps this build makes.
    static const std::string& digest();

private:
    static ProgramSet open_pinned(const std::string& dir);
    void pin(const std::string& dir) const;

    void point_at_map_fds();

    std::vector<UniqueFd> map_fds_;  // owns the fds in maps_ and pool_
    SharedMaps maps_;
    SlotPoolMaps pool_;
    std::vector<LoadedProgram> programs_;
    bool reused_ = false;
};

}  // namespace tether::hooks::bpf
