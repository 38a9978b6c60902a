// The supervisor's decision: pure, table-tested (tests/unit/hooks/
// supervisor_decision_test.cpp). Everything the kernel is asked to do on the
// container's behalf passes through decide() first.
#pragma once

#include <optional>
#include <set>
#include <string>

#include "hooks/supervisor/endpoint.hpp"
#include "hooks/supervisor/supervisor_policy.hpp"

namespace tether::hooks {

enum class Operation { connect, bind, send };

struct DecisionRequest {
    Operation operation = Operation::connect;
    int socket_type = SOCK_STREAM;  // SO_TYPE of the real socket
    Endpoint destination;           // as parsed (not yet normalised)
    // Bind only: does the caller hold CAP_NET_BIND_SERVICE? The supervisor
    // binds as root, so it must re-check what the kernel would have checked
    // for the container.
    bool caller_may_bind_privileged_ports = false;
    // Host-network mode: loopback ports the sandbox bound itself.
    const std::set<uint16_t>* sandbox_bound_ports = nullptr;
};

struct Verdict {
    bool allowed = false;
    int deny_errno = 0;      // ECONNREFUSED (loopback: what a closed port says) or EACCES
    std::string rule;        // why, for the log
    std::string annotation;  // the key that would allow a denied attempt
    // Bind only: host-network wildcard binds are narrowed to loopback, so that
    // a sandboxed server never listens on the host's real interfaces.
    std::optional<Endpoint> bind_instead;
};

Verdict decide(const SupervisorPolicy& policy, const DecisionRequest& request);

}  // namespace tether::hooks
