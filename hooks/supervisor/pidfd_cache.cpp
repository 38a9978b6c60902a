#include "hooks/supervisor/pidfd_cache.hpp"

#include <cerrno>

#include "hooks/supervisor/target_process.hpp"

namespace tether::hooks {

PidfdCache::Lookup PidfdCache::get(pid_t tid) {
    for (auto& entry : entries_) {
        if (entry.tid == tid && entry.pidfd) {
            Lookup found;
            found.pidfd = entry.pidfd.get();
            found.cached = true;
            return found;
        }
    }
    return open_and_remember(tid);
}

PidfdCache::Lookup PidfdCache::reopen(pid_t tid) {
    forget(tid);
    return open_and_remember(tid);
}

void PidfdCache::forget(pid_t tid) {
    for (auto& entry : entries_) {
        if (entry.tid == tid) {
            entry.tid = 0;
            entry.pidfd.reset();
        }
    }
}

PidfdCache::Lookup PidfdCache::open_and_remember(pid_t tid) {
    Lookup result;
    bool names_thread = false;
    UniqueFd fd = open_thread_pidfd(tid, &names_thread);
    if (!fd) return result;
    if (!names_thread) {
        // A pidfd of the thread group: its thread could exit and its tid be
        // reused while the group lives on. Used for this call only.
        result.pidfd = fd.get();
        result.uncached = std::move(fd);
        return result;
    }
    Entry& slot = entries_.find_or_evict([](const Entry& entry) { return !entry.pidfd; });
    slot.tid = tid;
    slot.pidfd = std::move(fd);
    result.pidfd = slot.pidfd.get();
    return result;
}

}  // namespace tether::hooks
