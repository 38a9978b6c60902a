// Reaching into the process (thread) that made a trapped call: its memory,
// its fds, its capabilities. Every function takes the tid from the seccomp
// notification; callers re-check the notification id after using them, so a
// recycled tid cannot make them act on an unrelated process.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/core/unique_fd.hpp"

namespace tether::hooks {

// A pidfd for the thread `tid`. The notification names a thread; before
// kernel 6.9 pidfd_open refuses non-leader threads, so this tries
// PIDFD_THREAD first and falls back to the thread group leader (whose fd
// table the threads share unless created without CLONE_FILES).
// Returns an invalid UniqueFd (errno set) when the thread is gone.
// `names_thread` (optional) is set when the pidfd names `tid`'s own struct
// pid (PIDFD_THREAD, or `tid` leads its group), false for the Tgid fallback:
// only the former may be kept across calls (pidfd_cache.hpp).
UniqueFd open_thread_pidfd(pid_t tid, bool* names_thread = nullptr);

// Copies `length` bytes at `address` in the target. Returns false on a fault
// or a short copy (the caller answers EFAULT, as the kernel would).
bool read_target_memory(pid_t tid, uint64_t address, void* out, size_t length);
bool write_target_memory(pid_t tid, uint64_t address, const void* data, size_t length);

// A duplicate of the target's fd `target_fd` (pidfd_getfd): the same open
// file description, so connecting it connects the target's socket.
// Invalid UniqueFd with errno set (EBADF: no such fd) on failure.
UniqueFd take_target_fd(int pidfd, int target_fd);

// Bit CAP_NET_BIND_SERVICE of CapEff in /proc/<tid>/status. false when the
// file cannot be read (the thread is gone: nothing will be bound for it).
bool target_has_net_bind_service(pid_t tid);

// /proc/<tid>/comm without the newline; "?" when unreadable.
std::string target_comm(pid_t tid);

}  // namespace tether::hooks
