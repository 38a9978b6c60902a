// The containers' own maps, made ahead of the containers (issue 23).
//
// Each sandbox has maps of its own: the ring buffer its events go to and,
// with transparent egress, the original-destination and DNS maps. The
// shared programs find them in hash-of-maps keyed by the container's slot
// (ProgramPolicy::slot). Putting a map into a hash-of-maps waits for an RCU
// grace period (the kernel makes sure no program still uses what the entry
// held before): 7-20 ms on the bench's machine, four times for a transparent
// sandbox. So the entries are made before a container needs them:
//
//   free     a slot whose maps are in the outer maps, owned by nobody: in
//            the pool's free list of its kind (SlotPoolMaps::free_*).
//   claimed  a create took it out of the free list (BPF_MAP_DELETE_ELEM:
//            of two creates taking the same slot, one succeeds) and
//            recorded its cgroup as the owner.
//   departed the owner's cgroup has no policy any more (the kernel frees a
//            cgroup's storage when its programs are gone, so no program can
//            write into the slot's maps again): upkeep empties the maps and
//            puts the slot back in the free list, or destroys it when the
//            list is long.
//
// A slot is never handed out while its old owner's cgroup has programs: its
// events could otherwise reach another container's log, and a redirected
// connect of the old container another container's proxy. A daemon's exit
// therefore does not free its slot; the cgroup's removal does, seen by the
// next upkeep.
//
// Upkeep runs in every tether-netd after it answered the runtime (off the
// container's path): when its kind has fewer than kMinFreeSlots free, it
// frees departed slots (a walk of every owner); it destroys free ones
// beyond kMaxFreeSlots, and makes new free ones until there are
// kMinFreeSlots of its kind, in one batch per outer map (a batch waits for one grace period,
// whatever its size). A create that finds the list empty (a burst of
// creates) makes its slot itself and waits for a grace period, as every
// create did before.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hooks/bpf/program_set.hpp"
#include "runtime/core/unique_fd.hpp"

namespace tether::hooks::bpf {

// The low bit of a slot's id. A transparent slot also has the maps of
// transparent egress and of the DNS responder (one comes with the other in
// an own network namespace).
enum class SlotKind : uint64_t { basic = 0, transparent = 1 };
inline constexpr size_t kMinFreeSlots = 4;
inline constexpr size_t kMaxFreeSlots = 8;

struct ClaimedSlot {
    uint64_t id = 0;
    UniqueFd events;              // the ring, emptied of what an earlier owner left
    UniqueFd original_by_client;  // transparent slots only
    bool from_pool = false;       // false: made by this claim (the free list was empty)
};

// Takes a free slot of `kind` for the cgroup `owner`, or makes one.
// Throws tether::Error when neither works.
ClaimedSlot claim_slot(const ProgramSet& set, SlotKind kind, uint64_t owner);

// A claimed slot whose container never ran (a failed attach) goes back to
// the free list as it is.
void return_slot(const ProgramSet& set, uint64_t slot);

struct SlotUpkeep {
    size_t freed = 0;      // departed owners' slots emptied and put back
    size_t made = 0;       // new free slots
    size_t destroyed = 0;  // departed slots beyond kMaxFreeSlots
};
// When `kind` has fewer than kMinFreeSlots free: frees the slots of departed
// owners; then destroys free slots beyond kMaxFreeSlots and makes free slots
// of `kind` until there are kMinFreeSlots. Waits for grace periods: never on a container's
// path.
SlotUpkeep keep_slots(const ProgramSet& set, SlotKind kind);

}  // namespace tether::hooks::bpf
