// The runtime's side of tether-netd's control socket (hooks/protocol.hpp).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tether {

struct NetdInfo {
    pid_t pid = 0;
    uint16_t proxy_port = 0;  // 0: no egress proxy
    bool kernel_enforced = false;  // cgroup socket programs decide; no notify filter
};

// Reads netd.pid and asks the daemon for its proxy port. Throws when the
// daemon does not answer: a sandbox without its supervisor must not start.
NetdInfo query_network_daemon(const std::string& state_dir);

// Gives a seccomp notify listener (the init's, or an exec'd process's) to the
// daemon's supervisor; throws unless it answers "ok".
void hand_listener_to_netd(const std::string& state_dir, int listener_fd);

// Asks the daemon to stop (STOP), falling back to SIGTERM by its pid file.
void stop_network_daemon(const std::string& state_dir);

// Asks a running daemon to write out the decision lines still waiting
// (FLUSH); does nothing when no daemon answers (it has exited: nothing waits).
void flush_network_daemon_log(const std::string& state_dir);

// HTTP_PROXY, HTTPS_PROXY, ALL_PROXY (and lower-case) pointing at the
// proxy on the container's loopback, and NO_PROXY for loopback itself.
std::vector<std::string> proxy_environment(uint16_t port);

}  // namespace tether
