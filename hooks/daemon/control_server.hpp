// The daemon's main loop: the control socket, the init's pidfd, SIGTERM.
#pragma once

#include <functional>
#include <memory>
#include <vector>
#include <string>

#include "hooks/common/decision_log.hpp"
#include "hooks/supervisor/supervisor.hpp"
#include "hooks/supervisor/supervisor_policy.hpp"
#include "runtime/core/unique_fd.hpp"

namespace tether::hooks {

class ControlServer {
public:
    // `listener`: bound and listening SOCK_SEQPACKET socket; `init_pidfd`:
    // pidfd of the container's init; `signals`: signalfd for SIGTERM/SIGINT.
    ControlServer(UniqueFd listener, UniqueFd init_pidfd, UniqueFd signals, SupervisorPolicy policy,
                  std::string container_id, std::shared_ptr<DecisionLog> log);

    // The cgroup socket programs decide the inet calls (ENFORCEMENT? answers
    // "kernel"); `drain` logs their waiting events (FLUSH).
    void set_kernel_enforcement(std::function<void()> drain) { drain_kernel_events_ = std::move(drain); }

    // Serves until the init exits, STOP or a signal. Returns why ("init
    // exited", "stop requested", "signal").
    std::string run();

private:
    void serve_client(int client);
    std::string handle(std::string_view request, UniqueFd passed_fd);

    UniqueFd listener_;
    UniqueFd init_pidfd_;
    UniqueFd signals_;
    SupervisorPolicy policy_;
    std::string container_id_;
    std::shared_ptr<DecisionLog> log_;
    std::vector<std::unique_ptr<Supervisor>> supervisors_;
    bool stop_requested_ = false;
    std::function<void()> drain_kernel_events_;
};

}  // namespace tether::hooks
