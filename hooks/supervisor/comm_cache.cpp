#include "hooks/supervisor/comm_cache.hpp"

#include "hooks/supervisor/target_process.hpp"

namespace tether::hooks {

const std::string& CommCache::get(pid_t tid, Clock::time_point now) {
    Entry& slot = entries_.find_or_evict([tid](const Entry& entry) { return entry.tid == tid; });
    if (slot.tid == tid && now - slot.read_at < kMaxAge) return slot.comm;
    slot.tid = tid;
    slot.read_at = now;
    slot.comm = target_comm(tid);
    return slot.comm;
}

}  // namespace tether::hooks
