// The seccomp-notify supervisor: answers every connect/bind/send trapped by
// the filter from runtime/sandbox/notify_filter.hpp, for one container, on its own thread.
//
//   auto supervisor = std::make_unique<Supervisor>(std::move(listener), policy, "c1", log);
//   supervisor->start();
//   ...                       // serves until stop() or until every process
//   supervisor->wait();       // of the container is gone (listener hangs up)
//
// Two threads. The serving thread blocks in SECCOMP_IOCTL_NOTIF_RECV itself:
// a poll() before every receive was one more syscall on every trapped call
// (docs/benchmarks.md). A watcher thread sleeps in poll() on the listener's
// hang-up and the stop event; when either comes it interrupts the receive
// with a signal (a handler without SA_RESTART makes the ioctl fail with
// EINTR), as often as needed until the serving thread has left.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "hooks/common/decision_log.hpp"
#include "hooks/supervisor/supervisor_policy.hpp"
#include "runtime/core/unique_fd.hpp"

namespace tether::hooks {

struct SupervisorState;

class Supervisor {
public:
    // `log` may be null (no decision log).
    Supervisor(UniqueFd listener, SupervisorPolicy policy, std::string container_id,
               std::shared_ptr<DecisionLog> log);
    ~Supervisor();  // stop() and join
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

    void start();  // throws tether::Error
    // Ends the loop. Calls still in flight on worker threads are answered
    // when they finish; new ones wait for the next listener holder (none:
    // the kernel fails them with ENOSYS once the listener is closed).
    void stop();
    // Blocks until the loop ends (stop(), or the listener hung up).
    void wait();

private:
    void serve();
    void watch();
    void interrupt_serving_thread();

    std::shared_ptr<SupervisorState> state_;
    UniqueFd stop_event_;
    UniqueFd served_event_;  // written once serve() has returned
    std::atomic<bool> stopping_{false};
    std::thread thread_;
    std::thread watcher_;
};

}  // namespace tether::hooks
