#include "hooks/bpf/container_slots.hpp"

#include <sys/random.h>

#include <exception>
#include <functional>
#include <future>
#include <memory>
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

// The keys of `map`, at most `limit` (a hash map's walk restarts when the
// key it stands on is deleted meanwhile: the limit ends it).
std::vector<uint64_t> keys_of(int map, size_t limit) {
    std::vector<uint64_t> keys;
    uint64_t key = 0, next = 0;
    while (keys.size() < limit && map_next_key(map, keys.empty() ? nullptr : &key, &next)) {
        keys.push_back(next);
        key = next;
    }
    return keys;
}

size_t free_count(const ProgramSet& set, SlotKind kind) { return keys_of(free_list(set, kind), kMaxFreeSlots * 4).size(); }

// The outer maps a slot of `kind` has an entry in.
std::vector<int> outer_maps(const ProgramSet& set, SlotKind kind) {
    const SharedMaps& m = set.maps();
    if (kind == SlotKind::basic) return {m.events};
    return {m.events, m.original_by_cookie, m.original_by_client, m.dns_by_cookie};
}

// Runs every task at once and waits for all: each put into or delete from
// a hash-of-maps waits for a grace period, and waiting together they share
// one. Throws the first failure.
void all_at_once(std::vector<std::function<void()>> tasks) {
    std::vector<std::future<void>> running;
    for (size_t i = 1; i < tasks.size(); ++i) running.push_back(std::async(std::launch::async, tasks[i]));
    std::exception_ptr failure;
    try {
        if (!tasks.empty()) tasks[0]();
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

void destroy_slot(const ProgramSet& set, uint64_t slot) {
    std::vector<std::function<void()>> deletes;
    for (int outer : outer_maps(set, kind_of(slot)))
        deletes.push_back([outer, slot] { map_delete(outer, &slot); });
    all_at_once(std::move(deletes));
}

struct MadeSlot {
    uint64_t id = 0;
    UniqueFd events, original_by_cookie, original_by_client, dns_by_cookie;
};

MadeSlot make_slot(const ProgramSet& set, SlotKind kind) {
    MadeSlot made;
    made.id = new_slot_id(kind);
    made.events = make_container_map(ContainerMap::events);
    std::vector<std::pair<int, int>> puts = {{set.maps().events, made.events.get()}};
    if (kind == SlotKind::transparent) {
        made.original_by_cookie = make_container_map(ContainerMap::original_by_cookie);
        made.original_by_client = make_container_map(ContainerMap::original_by_client);
        made.dns_by_cookie = make_container_map(ContainerMap::dns_by_cookie);
        puts.push_back({set.maps().original_by_cookie, made.original_by_cookie.get()});
        puts.push_back({set.maps().original_by_client, made.original_by_client.get()});
        puts.push_back({set.maps().dns_by_cookie, made.dns_by_cookie.get()});
    }
    std::vector<std::function<void()>> tasks;
    const uint64_t id = made.id;
    for (auto [outer, inner] : puts)
        tasks.push_back([outer, inner, id] { map_update(outer, &id, &inner, "a container slot's map", BPF_NOEXIST); });
    try {
        all_at_once(std::move(tasks));
    } catch (const Error&) {
        try {
            destroy_slot(set, made.id);
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

void empty_map(int map, size_t key_size) {
    std::vector<uint8_t> key(key_size);
    while (map_next_key(map, nullptr, key.data())) map_delete(map, key.data());
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
    MadeSlot made = make_slot(set, kind);
    map_update(set.pool().owners, &made.id, &owner, "a container slot's owner");
    ClaimedSlot claimed;
    claimed.id = made.id;
    claimed.events = std::move(made.events);
    claimed.original_by_client = std::move(made.original_by_client);
    return claimed;
}

void return_slot(const ProgramSet& set, uint64_t slot) {
    map_delete(set.pool().owners, &slot);
    map_update(free_list(set, kind_of(slot)), &slot, &kFree, "a free container slot");
}

SlotUpkeep keep_slots(const ProgramSet& set, SlotKind kind) {
    SlotUpkeep upkeep;
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
            destroy_slot(set, slot);
            ++upkeep.destroyed;
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
    for (size_t i = free_count(set, kind); i < kMinFreeSlots; ++i) {
        MadeSlot made = make_slot(set, kind);
        map_update(free_list(set, kind), &made.id, &kFree, "a free container slot");
        ++upkeep.made;
    }
    return upkeep;
}

}  // namespace tether::hooks::bpf
