// What the supervisor's loop thread and its worker threads share. Internal to
// hooks/supervisor/.
#pragma once

#include <linux/seccomp.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "hooks/common/decision_log.hpp"
#include "hooks/supervisor/comm_cache.hpp"
#include "hooks/supervisor/pidfd_cache.hpp"
#include "hooks/supervisor/socket_ring.hpp"
#include "hooks/supervisor/supervisor_policy.hpp"
#include "runtime/core/unique_fd.hpp"

namespace tether::hooks {

struct SupervisorState {
    UniqueFd listener;
    SupervisorPolicy policy;
    std::string container_id;
    std::shared_ptr<DecisionLog> log;

    // Ports the sandbox bound through the supervisor; in host-network mode
    // its own servers on the host loopback stay reachable for it.
    std::mutex bound_ports_mutex;
    std::set<uint16_t> bound_ports;

    // pidfds of the calling threads; the loop thread's only (workers are
    // handed the duplicated socket, or a dup of the pidfd).
    PidfdCache pidfds;
    // comm of the calling threads, for the log; the loop thread's only.
    CommCache comms;
    // Batched socket calls (socket_ring.hpp); opened at the first call,
    // null where io_uring cannot do them or after it failed once. The loop
    // thread's only: use socket_ring().
    std::unique_ptr<SocketRing> ring;
    bool ring_tried = false;
    SocketRing* socket_ring() {
        if (!ring_tried) {
            ring_tried = true;
            ring = SocketRing::open();
        }
        return ring.get();
    }

    // Workers still performing a blocking call (connect to a slow peer).
    std::atomic<unsigned> busy_workers{0};
};

}  // namespace tether::hooks
