// Test helpers shared by the bridge_* and proxy_* tests: a private network
// namespace, the daemon's EventLoop on its own thread, and small blocking
// servers on the host's 127.0.0.1 that the code under test dials.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "hooks/net/event_loop.hpp"
#include "hooks/net/socket_util.hpp"
#include "runtime/core/unique_fd.hpp"

namespace tether::hooks::testing {

// A fresh network namespace (only `lo`, down), held by an fd. Empty (invalid)
// when the test is not allowed to create one.
inline UniqueFd make_network_namespace() {
    UniqueFd result;
    std::thread([&] {
        // unshare(CLONE_NEWNET) moves only this short-lived thread.
        if (unshare(CLONE_NEWNET) != 0) return;
        result.reset(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    }).join();
    return result;
}

// Runs fn on a thread that has joined the namespace; sockets made there stay there.
template <typename Fn>
auto run_in_netns(int netns_fd, Fn fn) -> decltype(fn()) {
    std::packaged_task<decltype(fn())()> task([&] {
        if (setns(netns_fd, CLONE_NEWNET) != 0) throw std::runtime_error("setns failed");
        return fn();
    });
    auto result = task.get_future();
    std::thread(std::move(task)).join();
    return result.get();
}

// A blocking TCP socket created in the namespace, not yet connected: connect()
// from any thread then uses that namespace's loopback.
inline UniqueFd socket_in_netns(int netns_fd, int family = AF_INET) {
    return run_in_netns(netns_fd, [family] { return UniqueFd(socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)); });
}

inline bool connect_to(int fd, const SocketAddress& addr) { return connect(fd, addr.get(), addr.length) == 0; }

// A safety net so a broken relay fails the test instead of hanging it.
inline void set_receive_timeout(int fd, int seconds) {
    timeval tv{seconds, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

inline bool send_all(int fd, const char* data, size_t size) {
    while (size > 0) {
        ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            return false;
        }
        data += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}
inline bool send_all(int fd, const std::string& data) { return send_all(fd, data.data(), data.size()); }

// Reads until EOF; sets *error to errno if the stream ended with an error.
inline std::string read_to_eof(int fd, int* error = nullptr) {
    std::string out;
    char buf[65536];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            out.append(buf, static_cast<size_t>(n));
        } else if (n == 0) {
            if (error) *error = 0;
            return out;
        } else if (errno != EINTR) {
            if (error) *error = errno;
            return out;
        }
    }
}

inline std::string read_exactly(int fd, size_t size) {
    std::string out;
    char buf[65536];
    while (out.size() < size) {
        ssize_t n = recv(fd, buf, std::min(sizeof buf, size - out.size()), 0);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            break;
        }
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

inline std::string pseudo_random_bytes(size_t size, uint32_t seed) {
    std::string out(size, '\0');
    for (auto& c : out) {
        seed = seed * 1103515245u + 12345u;
        c = static_cast<char>(seed >> 16);
    }
    return out;
}

// A server on the host's 127.0.0.1:<ephemeral> running `session` on a thread
// per accepted connection (fine for tests). Counts accepted connections.
class HostServer {
public:
    using Session = std::function<void(UniqueFd)>;
    explicit HostServer(Session session) : session_(std::move(session)) {
        listener_.reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        SocketAddress addr = loopback_v4(0);
        if (bind(listener_.get(), addr.get(), addr.length) != 0 || listen(listener_.get(), 1024) != 0)
            throw std::runtime_error("host server bind/listen");
        port_ = local_port(listener_.get());
        acceptor_ = std::thread([this] { accept_loop(); });
    }
    ~HostServer() {
        stopping_ = true;
        shutdown(listener_.get(), SHUT_RDWR);  // wakes accept()
        acceptor_.join();
        for (auto& t : sessions_) t.join();
    }
    uint16_t port() const { return port_; }
    int accepted() const { return accepted_.load(); }

private:
    void accept_loop() {
        for (;;) {
            int fd = accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) {
                if (stopping_) return;
                if (errno == EINTR || errno == ECONNABORTED) continue;
                return;
            }
            ++accepted_;
            sessions_.emplace_back([this, fd] { session_(UniqueFd(fd)); });
        }
    }
    Session session_;
    UniqueFd listener_;
    uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<int> accepted_{0};
    std::thread acceptor_;
    std::vector<std::thread> sessions_;
};

// Echoes everything, then closes after the client's EOF.
inline void echo_session(UniqueFd fd) {
    char buf[65536];
    for (;;) {
        ssize_t n = recv(fd.get(), buf, sizeof buf, 0);
        if (n <= 0) return;
        if (!send_all(fd.get(), buf, static_cast<size_t>(n))) return;
    }
}

// The daemon's loop on its own thread; setup runs on the loop thread first.
class LoopThread {
public:
    LoopThread() = default;
    ~LoopThread() { stop(); }
    EventLoop& loop() { return loop_; }
    void start() { thread_ = std::thread([this] { loop_.run(); }); }
    // Runs fn on the loop thread and waits for it.
    template <typename Fn>
    auto call(Fn fn) -> decltype(fn()) {
        std::packaged_task<decltype(fn())()> task(std::move(fn));
        auto result = task.get_future();
        loop_.post([&task] { task(); });
        return result.get();
    }
    void stop() {
        if (!thread_.joinable()) return;
        loop_.stop();
        thread_.join();
    }

private:
    EventLoop loop_;
    std::thread thread_;
};

// A host loopback port with nothing listening on it (bound, then released).
inline uint16_t unused_host_port() {
    UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    SocketAddress addr = loopback_v4(0);
    bind(fd.get(), addr.get(), addr.length);
    return local_port(fd.get());
}

}  // namespace tether::hooks::testing
