#include "supervisor_test_support.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <stdexcept>
#include <thread>

#include "hooks/common/decision_log.hpp"
#include "runtime/sandbox/notify_filter.hpp"
#include "hooks/supervisor/supervisor.hpp"

namespace tether::hooks::testing {

namespace {

UniqueFd dual_stack_socket(int type, uint16_t& port) {
    UniqueFd fd(::socket(AF_INET6, type | SOCK_CLOEXEC, 0));
    if (!fd) throw std::runtime_error("socket");
    int zero = 0, one = 1;
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in6 any{};
    any.sin6_family = AF_INET6;
    any.sin6_addr = in6addr_any;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&any), sizeof any) != 0) throw std::runtime_error("bind");
    socklen_t length = sizeof any;
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&any), &length);
    port = ntohs(any.sin6_port);
    return fd;
}

}  // namespace

CountingTcpServer::CountingTcpServer() {
    listener_ = dual_stack_socket(SOCK_STREAM, port_);
    if (::listen(listener_.get(), 4096) != 0) throw std::runtime_error("listen");
}

CountingTcpServer::~CountingTcpServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
}

void CountingTcpServer::start_accepting() {
    thread_ = std::thread([this] {
        while (!stop_) {
            pollfd p{listener_.get(), POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
            if (fd >= 0) {
                ++accepted_;
                ::close(fd);
            }
        }
    });
}

int CountingTcpServer::accepted_after_drain() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    ::fcntl(listener_.get(), F_SETFL, O_NONBLOCK);  // accept4's SOCK_NONBLOCK is for the new socket
    for (;;) {
        int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) break;
        ++accepted_;
        ::close(fd);
    }
    return accepted_;
}

CountingUdpServer::CountingUdpServer() { socket_ = dual_stack_socket(SOCK_DGRAM, port_); }

int CountingUdpServer::drain() {
    int count = 0;
    char buf[2048];
    while (::recv(socket_.get(), buf, sizeof buf, MSG_DONTWAIT) >= 0) ++count;
    return count;
}

sockaddr_in ipv4_address(const char* text, uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, text, &a.sin_addr);
    return a;
}

sockaddr_in6 ipv6_address(const char* text, uint16_t port) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    ::inet_pton(AF_INET6, text, &a.sin6_addr);
    return a;
}

int connect_errno(int family, int type, const void* address, socklen_t length) {
    UniqueFd fd(::socket(family, type | SOCK_CLOEXEC, 0));
    if (!fd) return errno;
    int rc = ::connect(fd.get(), static_cast<const sockaddr*>(address), length);
    return rc == 0 ? 0 : errno;
}

int run_supervised(const SupervisorPolicy& policy, const std::string& log_path, const std::function<int()>& body,
                   const std::function<void()>& after_fork_in_parent, SupervisorEnd end) {
    int to_parent[2], to_child[2];
    if (::pipe2(to_parent, O_CLOEXEC) != 0 || ::pipe2(to_child, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    pid_t child = ::fork();
    if (child < 0) throw std::runtime_error("fork");
    if (child == 0) {
        int listener = -1;
        try {
            listener = sandbox::load_network_notify_filter().release();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "child: %s\n", e.what());
            ::_exit(90);
        }
        // write(), not sendmsg(): the filter traps sendmsg and nobody
        // supervises yet.
        if (::write(to_parent[1], &listener, sizeof listener) != sizeof listener) ::_exit(91);
        char go;
        if (::read(to_child[0], &go, 1) != 1) ::_exit(92);
        ::_exit(body());
    }
    ::close(to_parent[1]);
    ::close(to_child[0]);
    UniqueFd parent_read(to_parent[0]), parent_write(to_child[1]);
    if (after_fork_in_parent) after_fork_in_parent();

    int number = -1;
    if (::read(parent_read.get(), &number, sizeof number) != sizeof number) {
        int status = 0;
        ::waitpid(child, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, child, 0)));
    UniqueFd listener(static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd.get(), number, 0)));
    if (!listener) throw std::runtime_error("pidfd_getfd of the listener");

    auto log = log_path.empty() ? nullptr : std::make_shared<DecisionLog>(log_path);
    Supervisor supervisor(std::move(listener), policy, "test-container", log);
    supervisor.start();
    char go = 'g';
    if (::write(parent_write.get(), &go, 1) != 1) throw std::runtime_error("write go");
    int status = 0;
    ::waitpid(child, &status, 0);
    if (end == SupervisorEnd::hang_up) {
        std::promise<void> ended;
        auto ended_future = ended.get_future();
        std::thread waiter([&] {
            supervisor.wait();
            ended.set_value();
        });
        bool in_time = ended_future.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
        if (!in_time) supervisor.stop();
        waiter.join();
        if (!in_time) return kSupervisorDidNotEnd;
    } else {
        supervisor.stop();
        supervisor.wait();
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace tether::hooks::testing
