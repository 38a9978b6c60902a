// From the container (its state and annotations) to what the supervisor
// enforces.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "hooks/supervisor/supervisor_policy.hpp"
#include "spec/policy.hpp"

namespace tether::hooks {

// Host network when the init's netns is this process's; a veth when its
// netns has an interface other than lo; else its own namespace. Throws
// tether::Error when /proc/<pid>/ns/net cannot be read (the init is gone).
NetworkMode detect_network_mode(pid_t init_pid);

// "nameserver" lines of a resolv.conf (missing file: none).
std::vector<Endpoint> read_resolvers(const std::string& resolv_conf_path);

SupervisorPolicy supervisor_policy_for(const spec::SandboxPolicy& policy, NetworkMode mode, uint16_t proxy_port,
                                       std::vector<Endpoint> resolvers);

}  // namespace tether::hooks
