// Helpers for the supervisor's live tests: TCP/UDP servers on the loopback
// that count who reached them, and a forked child that runs under the notify
// filter with the test process as its supervisor.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "hooks/supervisor/supervisor_policy.hpp"
#include "runtime/core/unique_fd.hpp"

namespace tether::hooks::testing {

// A dual-stack TCP server on [::]:<ephemeral>, so that every loopback
// spelling (127.0.0.1, 127.0.0.2, ::1, ::ffff:127.0.0.1, 0.0.0.0) would
// reach it without the supervisor. Counts accepted connections.
class CountingTcpServer {
public:
    CountingTcpServer();
    ~CountingTcpServer();
    uint16_t port() const { return port_; }
    void start_accepting();  // after fork(): no threads in the child
    int accepted() const { return accepted_.load(); }
    // Connections that reached the backlog but were not accepted yet count too.
    int accepted_after_drain();

private:
    UniqueFd listener_;
    uint16_t port_ = 0;
    std::atomic<int> accepted_{0};
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// A dual-stack UDP socket on [::]:<ephemeral>; counts datagrams received.
class CountingUdpServer {
public:
    CountingUdpServer();
    uint16_t port() const { return port_; }
    int drain();  // datagrams waiting now

private:
    UniqueFd socket_;
    uint16_t port_ = 0;
};

// Forks a child that loads the notify filter, hands the listener to this
// process (fd number over a pipe, then pidfd_getfd), and runs `body` once a
// Supervisor with `policy` serves it. Returns the child's exit status (0 = all
// checks in body passed; body prints what failed to stderr).
//
// How the supervisor is ended once the child has exited: stop() (as the
// daemon does on STOP), or nothing: it must end by itself because the
// listener hung up; if it has not within 10 s, the result is
// kSupervisorDidNotEnd.
enum class SupervisorEnd { stop, hang_up };
constexpr int kSupervisorDidNotEnd = 200;
int run_supervised(const SupervisorPolicy& policy, const std::string& log_path, const std::function<int()>& body,
                   const std::function<void()>& after_fork_in_parent = {},
                   SupervisorEnd end = SupervisorEnd::stop);

sockaddr_in ipv4_address(const char* text, uint16_t port);
sockaddr_in6 ipv6_address(const char* text, uint16_t port);

// connect() a new socket of `family`/`type` to `address`; returns 0 or errno.
int connect_errno(int family, int type, const void* address, socklen_t length);

}  // namespace tether::hooks::testing
