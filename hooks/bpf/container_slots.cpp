#include "hooks/bpf/container_slots.hpp"

#include <sys/random.h>

#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <unordered_set>
#include <utility>
#include <vector>

#include "hooks/bpf/program_policy.hpp"
#include "hooks/bpf/socket_events.hpp"
#include "runtime/core/bpf_syscall.hpp"
#include "runtime/core/error.hpp"

namespace tether::hooks::bpf {

using namespace tether::bpf;

namespace {

constexpr uint8_t kFree = 1;

SlotKind kind_of(uint64_t slot) { return static_cast<SlotKind>(slot & 1); }

int free_list(const ProgramSet& set, SlotKind kind) {
    return kind == SlotKind::transparent ? set.pool().free_transparent : set.pool().free_basic;
}

uint64_t new_slot_id(SlotKind kind) {
    uint64_t random = 0;
    if (::getrandom(&random, sizeof random, 0) != sizeof random) throw_errno("getrandom for a slot id");
    return (random & ~uint64_t{1}) | static_cast<uint64_t>(kind);
}

// The keys of `map`, at most `limit`. A hash map's walk starts over when the
// key it stands on is deleted meanwhile (another daemon's claim or upkeep):
// the first key seen again ends it.
std::vector<uint64_t> keys_of(int map, size_t limit) {
    std::vector<uint64_t> keys;
    std::unordered_set<uint64_t> seen;
    uint64_t key = 0, next = 0;
    while (keys.size() < limit && map_next_key(map, keys.empty() ? nullptr : &key, &next)) {
        if (!seen.insert(next).second) break;
        keys.push_back(next);
        key = next;
    }
    return keys;
}

size_t free_count(const ProgramSet& set, SlotKind kind) { return keys_of(free_list(set, kind), kMaxFreeSlots * 4).size(); }

// The kinds of map a slot of `kind` has, each in its outer map.
std::vector<ContainerMap> maps_of(SlotKind kind) {
    if (kind == SlotKind::basic) return {ContainerMap::events};
    return {ContainerMap::events, ContainerMap::original_by_cookie, ContainerMap::original_by_client,
            ContainerMap::dns_by_cookie};
}

int outer_map(const ProgramSet& set, ContainerMap kind) {
    const SharedMaps& m = set.maps();
    switch (kind) {
        case ContainerMap::events: return m.events;
        case ContainerMap::original_by_cookie: return m.original_by_cookie;
        case ContainerMap::original_by_client: return m.original_by_client;
        case ContainerMap::dns_by_cookie: return m.dns_by_cookie;
    }
    return -1;
}

// How the puts into and deletes from the outer maps run. Each batch into a
// hash-of-maps waits for one RCU grace period, whatever its size. On a
// create's path the outer maps' batches run at once, on threads of their
// own, and share one; in the upkeep, off every path, one after the other
// (no thread stacks left in the daemon's RSS).
enum class Waits { together, in_turn };

// Runs `task(i)` for every i below `count` and waits for all; throws the
// first failure.
void run_tasks(size_t count, const std::function<void(size_t)>& task, Waits waits) {
    if (waits == Waits::in_turn || count < 2) {
        for (size_t i = 0; i < count; ++i) task(i);
        return;
    }
    std::vector<std::future<void>> running;
    for (size_t i = 1; i < count; ++i) running.push_back(std::async(std::launch::async, task, i));
    std::exception_ptr failure;
    try {
        task(0);
    } catch (...) {
        failure = std::current_exception();
    }
    for (auto& r : running) {
        try {
            r.get();
        } catch (...) {
            if (!failure) failure = std::current_exception();
        }
    }
    if (failure) std::rethrow_exception(failure);
}

// Slots of one kind out of the outer maps, each map's in one batch.
void destroy_slots(const ProgramSet& set, SlotKind kind, const std::vector<uint64_t>& slots, Waits waits) {
    const auto kinds = maps_of(kind);
    run_tasks(
        kinds.size(),
        [&](size_t k) {
            map_delete_batch(outer_map(set, kinds[k]), slots.data(), static_cast<uint32_t>(slots.size()),
                             sizeof(uint64_t));
        },
        waits);
}

// `count` new slots of `kind`: their maps made and put into the outer maps
// (each outer map's in one batch). Each fd closes when the slot goes back
// to the caller: the outer maps hold the maps.
struct MadeSlots {
    std::vector<uint64_t> ids;
    std::vector<std::vector<UniqueFd>> maps;  // per ContainerMap of the kind (maps_of), per slot
};

MadeSlots make_slots(const ProgramSet& set, SlotKind kind, size_t count, Waits waits) {
    MadeSlots made;
    const auto kinds = maps_of(kind);
    for (size_t i = 0; i < count; ++i) made.ids.push_back(new_slot_id(kind));
    made.maps.resize(kinds.size());
    for (size_t k = 0; k < kinds.size(); ++k)
        for (size_t i = 0; i < count; ++i) made.maps[k].push_back(make_container_map(kinds[k]));
    try {
        run_tasks(
            kinds.size(),
            [&](size_t k) {
                std::vector<uint32_t> fds;
                for (const auto& fd : made.maps[k]) fds.push_back(static_cast<uint32_t>(fd.get()));
                map_update_batch(outer_map(set, kinds[k]), made.ids.data(), fds.data(),
                                 static_cast<uint32_t>(count), sizeof(uint64_t), sizeof(uint32_t),
                                 "container slots' maps");
            },
            waits);
    } catch (const Error&) {
        try {
            destroy_slots(set, kind, made.ids, waits);
        } catch (const Error&) {
        }
        throw;
    }
    return made;
}

// The slot's map in `outer` (a hash-of-maps lookup gives the map's id).
UniqueFd inner_map(int outer, uint64_t slot) {
    uint32_t id = 0;
    if (!map_lookup(outer, &slot, &id)) throw Error("container slot " + std::to_string(slot) + " has lost a map");
    return map_by_id(id);
}

// Deletes every entry: the keys are walked once, then deleted (a walk
// from the start after each delete scans the buckets again, 4096 of them).
// Nothing writes the map meanwhile: its owner is gone.
void empty_map(int map, size_t key_size) {
    std::vector<uint8_t> keys;
    std::vector<uint8_t> next(key_size);
    while (map_next_key(map, keys.empty() ? nullptr : keys.data() + keys.size() - key_size, next.data()))
        keys.insert(keys.end(), next.begin(), next.end());
    for (size_t at = 0; at < keys.size(); at += key_size) map_delete(map, keys.data() + at);
}

}  // namespace

ClaimedSlot claim_slot(const ProgramSet& set, SlotKind kind, uint64_t owner) {
    const int free = free_list(set, kind);
    for (int attempt = 0; attempt < 16; ++attempt) {
        uint64_t slot = 0;
        if (!map_next_key(free, nullptr, &slot)) break;
        if (!map_take(free, &slot)) continue;  // another create took it first
        map_update(set.pool().owners, &slot, &owner, "a container slot's owner");
        try {
            ClaimedSlot claimed;
            claimed.id = slot;
            claimed.from_pool = true;
            claimed.events = inner_map(set.maps().events, slot);
            // What the slot's earlier owner logged and its daemon never read.
            discard_ring_records(claimed.events.get());
            if (kind == SlotKind::transparent) claimed.original_by_client = inner_map(set.maps().original_by_client, slot);
            return claimed;
        } catch (const Error&) {
            // A slot that lost a map (removed by hand): dropped.
            map_delete(set.pool().owners, &slot);
        }
    }
    MadeSlots made = make_slots(set, kind, 1, Waits::together);
    map_update(set.pool().owners, &made.ids[0], &owner, "a container slot's owner");
    ClaimedSlot claimed;
    claimed.id = made.ids[0];
    claimed.events = std::move(made.maps[0][0]);  // maps_of: events first
    if (kind == SlotKind::transparent) claimed.original_by_client = std::move(made.maps[2][0]);
    return claimed;
}

void return_slot(const ProgramSet& set, uint64_t slot) {
    map_delete(set.pool().owners, &slot);
    map_update(free_list(set, kind_of(slot)), &slot, &kFree, "a free container slot");
}

// The slots of departed owners back into the free lists (emptied), or
// into `to_destroy` when their list is full.
static void free_departed_slots(const ProgramSet& set, SlotUpkeep& upkeep, std::vector<uint64_t> (&to_destroy)[2]) {
    auto policy = std::make_unique<ProgramPolicy>();
    for (uint64_t slot : keys_of(set.pool().owners, 1 << 20)) {
        uint64_t owner = 0;
        if (!map_lookup(set.pool().owners, &slot, &owner)) continue;
        // The owner attached its programs before it claimed the slot, so
        // its cgroup has a policy from the claim on; none means the cgroup
        // and its programs are gone.
        if (map_lookup(set.maps().policies, &owner, policy.get())) continue;
        if (!map_take(set.pool().owners, &slot)) continue;  // another daemon's upkeep has it
        const SlotKind slot_kind = kind_of(slot);
        if (free_count(set, slot_kind) >= kMaxFreeSlots) {
            to_destroy[static_cast<size_t>(slot_kind)].push_back(slot);
            continue;
        }
        if (slot_kind == SlotKind::transparent) {
            // The ring is emptied by the next claim; these are read by key,
            // so nothing of the old owner's may stay.
            empty_map(inner_map(set.maps().original_by_cookie, slot).get(), sizeof(uint64_t));
            empty_map(inner_map(set.maps().original_by_client, slot).get(), sizeof(ClientKey));
            empty_map(inner_map(set.maps().dns_by_cookie, slot).get(), sizeof(uint64_t));
        }
        map_update(free_list(set, slot_kind), &slot, &kFree, "a free container slot");
        ++upkeep.freed;
    }
}

SlotUpkeep keep_slots(const ProgramSet& set, SlotKind kind) {
    SlotUpkeep upkeep;
    std::vector<uint64_t> to_destroy[2];
    // The walk of every owner (a 25 KiB policy read for each) only when
    // slots are missing: with 100 sandboxes up, every create's upkeep read
    // 2.5 MB to find nothing to do.
    if (free_count(set, kind) < kMinFreeSlots) free_departed_slots(set, upkeep, to_destroy);
    // Free slots beyond the most kept (several daemons' upkeeps refilled at
    // once in a burst of creates) go too.
    for (SlotKind k : {SlotKind::basic, SlotKind::transparent}) {
        const int free = free_list(set, k);
        auto kept = keys_of(free, kMaxFreeSlots * 64);
        for (size_t i = kMaxFreeSlots; i < kept.size(); ++i)
            if (map_take(free, &kept[i])) to_destroy[static_cast<size_t>(k)].push_back(kept[i]);
    }
    for (SlotKind k : {SlotKind::basic, SlotKind::transparent}) {
        auto& slots = to_destroy[static_cast<size_t>(k)];
        if (slots.empty()) continue;
        destroy_slots(set, k, slots, Waits::in_turn);
        upkeep.destroyed += slots.size();
    }
    // One batch for all that are missing: the grace period is per batch.
    const size_t free_now = free_count(set, kind);
    if (free_now < kMinFreeSlots) {
        MadeSlots made = make_slots(set, kind, kMinFreeSlots - free_now, Waits::in_turn);
        for (uint64_t id : made.ids) map_update(free_list(set, kind), &id, &kFree, "a free container slot");
        upkeep.made = made.ids.size();
    }
    return upkeep;
}

}  // namespace tether::hooks::bpf
