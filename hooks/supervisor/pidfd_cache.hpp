// pidfds of the threads that made trapped calls, kept from one call to the
// next. Opening a pidfd per call (a pidfs inode and a file, then closing
// them) was a measurable part of every supervised connect
// (docs/benchmarks.md); a container making many connects does it from a few
// threads. Used by the supervisor's loop thread only, so it has no lock.
//
// Why a cached pidfd cannot act on the wrong thread. Only pidfds that name
// the calling thread's own struct pid are cached (PIDFD_THREAD, or a thread
// group leader's pid), never the Tgid fallback of open_thread_pidfd(). While
// that thread lives it holds its tid, so no other thread has that tid; once it
// has exited, pidfd_getfd() through the pidfd fails. So when pidfd_getfd()
// through a cached pidfd succeeds, the pidfd's thread held the tid at that
// moment. The pidfd's thread also held the tid when it was cached (before the
// notification), so it held it throughout, and the notifying thread, which
// held the tid at the notification, is that thread. So a successful
// pidfd_getfd() through a cached pidfd proves what SECCOMP_IOCTL_NOTIF_ID_VALID
// would, for every copy of the caller's memory made before it: the
// supervisor skips that ioctl then (trapped_call.cpp; connect and bind copy
// their address first), and issues it after a freshly opened pidfd, or when
// it copied after taking the socket. (A struct pid changes task only when
// another thread of its group execs, which kills the waiting thread first;
// the group, and so the container, is the same.) A failure through a cached
// pidfd may only mean a stale entry (a thread gone, its tid reused), so the
// caller forgets it and retries once with a freshly opened pidfd.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstddef>

#include "hooks/supervisor/cache_slots.hpp"
#include "runtime/core/unique_fd.hpp"

namespace tether::hooks {

class PidfdCache {
public:
    struct Lookup {
        int pidfd = -1;  // owned by the cache (or by `uncached`); -1: the thread is gone
        bool cached = false;  // came from the cache: a failure may mean a stale entry
        UniqueFd uncached;    // a pidfd the cache must not keep (Tgid fallback)
    };

    // The cached pidfd for `tid`, else a fresh one (remembered when it names
    // the thread itself). errno is set when pidfd is -1.
    Lookup get(pid_t tid);
    // A fresh pidfd for `tid`, replacing any cached one (after a failure
    // through a cached pidfd).
    Lookup reopen(pid_t tid);
    void forget(pid_t tid);

private:
    struct Entry {
        pid_t tid = 0;
        UniqueFd pidfd;
    };
    Lookup open_and_remember(pid_t tid);

    // Few threads of a container connect at once; a small table scanned
    // linearly beats a map, and round-robin eviction bounds the fds held for
    // threads that have exited (each pins only a struct pid).
    CacheSlots<Entry, 32> entries_;
};

}  // namespace tether::hooks
