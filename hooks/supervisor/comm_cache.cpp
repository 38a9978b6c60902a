#include "hooks/supervisor/comm_cache.hpp"

#include "hooks/supervisor/target_process.hpp"

namespace tether::hooks {

const std::string& CommCache::get(pid_t tid, Clock::time_point now) {
    Entry* slot = nullptr;
    for (auto& entry : entries_) {
        if (entry.tid == tid) {
            if (now - entry.read_at < kMaxAge) return entry.comm;
            slot = &entry;
            break;
        }
    }
    if (!slot) {
        slot = &entries_[next_victim_];
        next_victim_ = (next_victim_ + 1) % entries_.size();
    }
    slot->tid = tid;
    slot->read_at = now;
    slot->comm = target_comm(tid);
    return slot->comm;
}

}  // namespace tether::hooks
