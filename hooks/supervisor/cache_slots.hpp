// The fixed table behind the supervisor's small per-thread caches
// (comm_cache.hpp, pidfd_cache.hpp): the slot an entry goes to is the first
// that `pick` accepts, else the next one in turn (round robin), so a busy
// sandbox with more threads than slots still reuses each slot fairly.
#pragma once

#include <array>
#include <cstddef>

namespace tether::hooks {

template <typename Entry, size_t N>
class CacheSlots {
public:
    // The first entry for which pick(entry) is true, else the next victim.
    template <typename Pick>
    Entry& find_or_evict(Pick pick) {
        for (auto& entry : entries_)
            if (pick(entry)) return entry;
        Entry& victim = entries_[next_victim_];
        next_victim_ = (next_victim_ + 1) % N;
        return victim;
    }

    auto begin() { return entries_.begin(); }
    auto end() { return entries_.end(); }

private:
    std::array<Entry, N> entries_{};
    size_t next_victim_ = 0;
};

}  // namespace tether::hooks
