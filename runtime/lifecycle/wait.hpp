// Waiting for a container's init in the foreground (`run`), forwarding the
// signals a terminal user sends to tether on to the container, as runc does.
#pragma once

#include <sys/types.h>

namespace tether {

// Blocks until the child `pid` (our own child) exits; returns its exit code,
// or 128 + signal number when it was killed.
int wait_forwarding_signals(pid_t pid, int pidfd);

}  // namespace tether
