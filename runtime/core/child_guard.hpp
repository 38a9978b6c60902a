// Kills and reaps a child we cloned unless the step that made it succeeded:
// a failed create or exec leaves no process behind (STYLE.md's child guard).
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "runtime/core/error.hpp"

namespace tether {

class ChildGuard {
public:
    explicit ChildGuard(pid_t pid) : pid_(pid) {}
    ChildGuard(const ChildGuard&) = delete;
    ChildGuard& operator=(const ChildGuard&) = delete;
    ~ChildGuard() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        int status;
        retry_eintr([&] { return ::waitpid(pid_, &status, 0); });
    }
    // The child is on its own now (it exec'd, or the caller owns it).
    void disarm() { pid_ = 0; }

private:
    pid_t pid_;
};

}  // namespace tether
