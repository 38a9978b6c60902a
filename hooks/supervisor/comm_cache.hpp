// The command name (comm) of the threads that made trapped calls, for the
// decision log, read from /proc/<tid>/comm at most once per kMaxAge per
// thread. Reading it on every logged call (open, read, close of a procfs
// file) was 7 us of the 45 us a supervised connect cost (docs/benchmarks.md).
//
// What the age costs: a thread that renames itself (prctl PR_SET_NAME, a
// write to its comm) or execs is logged under its old name for at most
// kMaxAge after its previous logged call, and a thread given the tid of one
// that exited within that time is logged under the old thread's name (the
// table is keyed by tid alone). comm is set by the process itself
// and never trusted for a decision, so nothing but the log's wording can
// change. Used by the supervisor's loop thread only, so it has no lock.
#pragma once

#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <string>

#include "hooks/supervisor/cache_slots.hpp"

namespace tether::hooks {

class CommCache {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr Clock::duration kMaxAge = std::chrono::milliseconds(10);

    // The comm of `tid` as read no longer than kMaxAge before `now`.
    const std::string& get(pid_t tid, Clock::time_point now = Clock::now());

private:
    struct Entry {
        pid_t tid = 0;
        Clock::time_point read_at;
        std::string comm;
    };
    CacheSlots<Entry, 32> entries_;
};

}  // namespace tether::hooks
