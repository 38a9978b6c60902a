#include "hooks/supervisor/target_process.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <string>

#include "runtime/core/error.hpp"

// pidfd_open(2) flag for a thread (not thread-group) pidfd, Linux 6.9. Not in
// the 6.1 headers; defined here (not in runtime/core/kernel_compat.hpp, which
// another folder owns) because only this file needs it.
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

namespace tether::hooks {

namespace {

int pidfd_open_raw(pid_t pid, unsigned flags) {
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, flags));
}

pid_t thread_group_of(pid_t tid) {
    std::ifstream status("/proc/" + std::to_string(tid) + "/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("Tgid:", 0) == 0) return static_cast<pid_t>(std::stol(line.substr(5)));
    return -1;
}

}  // namespace

UniqueFd open_thread_pidfd(pid_t tid, bool* names_thread) {
    if (names_thread) *names_thread = true;
    int fd = pidfd_open_raw(tid, PIDFD_THREAD);
    if (fd >= 0) return UniqueFd(fd);
    if (errno != EINVAL) return UniqueFd();
    // Kernel < 6.9: a pidfd for the thread group. The caller re-checks the
    // notification id afterwards, which proves the thread (and so its
    // group) still existed when the pidfd was taken.
    fd = pidfd_open_raw(tid, 0);
    if (fd >= 0) return UniqueFd(fd);
    if (names_thread) *names_thread = false;
    pid_t tgid = thread_group_of(tid);
    if (tgid <= 0) {
        errno = ESRCH;
        return UniqueFd();
    }
    return UniqueFd(pidfd_open_raw(tgid, 0));
}

bool read_target_memory(pid_t tid, uint64_t address, void* out, size_t length) {
    if (length == 0) return true;
    iovec local{out, length};
    iovec remote{reinterpret_cast<void*>(static_cast<uintptr_t>(address)), length};
    ssize_t n = ::process_vm_readv(tid, &local, 1, &remote, 1, 0);
    return n == static_cast<ssize_t>(length);
}

bool write_target_memory(pid_t tid, uint64_t address, const void* data, size_t length) {
    if (length == 0) return true;
    iovec local{const_cast<void*>(data), length};
    iovec remote{reinterpret_cast<void*>(static_cast<uintptr_t>(address)), length};
    ssize_t n = ::process_vm_writev(tid, &local, 1, &remote, 1, 0);
    return n == static_cast<ssize_t>(length);
}

UniqueFd take_target_fd(int pidfd, int target_fd) {
    return UniqueFd(static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd, target_fd, 0)));
}

bool target_has_net_bind_service(pid_t tid) {
    std::ifstream status("/proc/" + std::to_string(tid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("CapEff:", 0) != 0) continue;
        try {
            unsigned long long caps = std::stoull(line.substr(7), nullptr, 16);
            return (caps >> CAP_NET_BIND_SERVICE) & 1;
        } catch (const std::exception&) {
            return false;
        }
    }
    return false;
}

std::string target_comm(pid_t tid) {
    // open/read/close, not an ifstream: this runs for every logged decision,
    // and the stream's buffers and extra syscalls showed in the profile.
    char path[32];
    std::snprintf(path, sizeof path, "/proc/%d/comm", static_cast<int>(tid));
    UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (!fd) return "?";
    char name[64];
    ssize_t n = ::read(fd.get(), name, sizeof name);
    if (n <= 0) return "?";
    if (name[n - 1] == '\n') --n;
    return std::string(name, static_cast<size_t>(n));
}

}  // namespace tether::hooks
