// The seccomp-notify supervisor: answers every connect/bind/send trapped by
// the filter from notify_filter.hpp, for one container, on its own thread.
//
//   auto supervisor = std::make_unique<Supervisor>(std::move(listener), policy, "c1", log);
//   supervisor->start();
//   ...                       // serves until stop() or until every process
//   supervisor->wait();       // of the container is gone (listener hangs up)
#pragma once

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

    std::shared_ptr<SupervisorState> state_;
    UniqueFd stop_event_;
    std::thread thread_;
};

}  // namespace tether::hooks
