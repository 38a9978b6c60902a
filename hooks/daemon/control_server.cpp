#include "hooks/daemon/control_server.hpp"

#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include <cstring>

#include "hooks/protocol.hpp"
#include "runtime/core/error.hpp"

namespace tether::hooks {

ControlServer::ControlServer(UniqueFd listener, UniqueFd init_pidfd, UniqueFd signals, SupervisorPolicy policy,
                             std::string container_id, std::shared_ptr<DecisionLog> log)
    : listener_(std::move(listener)),
      init_pidfd_(std::move(init_pidfd)),
      signals_(std::move(signals)),
      policy_(std::move(policy)),
      container_id_(std::move(container_id)),
      log_(std::move(log)) {}

std::string ControlServer::run() {
    for (;;) {
        pollfd fds[3] = {{listener_.get(), POLLIN, 0}, {init_pidfd_.get(), POLLIN, 0}, {signals_.get(), POLLIN, 0}};
        if (::poll(fds, 3, -1) < 0) {
            if (errno == EINTR) continue;
            throw_errno("netd: poll");
        }
        // A pidfd becomes readable when the process exits.
        if (fds[1].revents) return "init exited";
        if (fds[2].revents) return "signal";
        if (fds[0].revents & POLLIN) {
            UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (client) serve_client(client.get());
            if (stop_requested_) return "stop requested";
        }
    }
}

void ControlServer::serve_client(int client) {
    // One client at a time; a client that stalls cannot hold the daemon
    // for long.
    timeval timeout{5, 0};
    ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    for (;;) {
        char buffer[protocol::kMaxMessage];
        iovec iov{buffer, sizeof buffer};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
        msghdr message{};
        message.msg_iov = &iov;
        message.msg_iovlen = 1;
        message.msg_control = control;
        message.msg_controllen = sizeof control;
        ssize_t n = retry_eintr([&] { return ::recvmsg(client, &message, MSG_CMSG_CLOEXEC); });
        if (n <= 0) return;

        // Take ownership of every passed fd; only LISTENER uses one.
        UniqueFd passed;
        int extra_fds = 0;
        for (cmsghdr* c = CMSG_FIRSTHDR(&message); c; c = CMSG_NXTHDR(&message, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < count; ++i) {
                int fd;
                std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                if (!passed) passed.reset(fd);
                else ::close(fd), ++extra_fds;
            }
        }
        std::string reply = (message.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || extra_fds
                                 ? "error malformed request"
                                 : handle(std::string_view(buffer, static_cast<size_t>(n)), std::move(passed));
        ::send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
        if (stop_requested_) return;
    }
}

std::string ControlServer::handle(std::string_view request, UniqueFd passed_fd) {
    std::string ok(protocol::kOk);
    if (request == protocol::kPing) return ok;
    if (request == protocol::kStop) {
        stop_requested_ = true;
        return ok;
    }
    if (request == protocol::kProxyPort) return std::to_string(policy_.proxy_port);
    if (request == protocol::kEnforcement)
        return std::string(drain_kernel_events_ ? protocol::kKernelEnforcement : protocol::kSupervisorEnforcement);
    if (request == protocol::kFlush) {
        if (drain_kernel_events_) drain_kernel_events_();
        if (log_) log_->flush();
        return ok;
    }
    if (request == protocol::kListener) {
        if (!passed_fd) return "error LISTENER needs the listener fd (SCM_RIGHTS)";
        // One listener per process tree: the init's, then one for each
        // process `tether exec` starts (each has a filter chain of its own).
        try {
            auto supervisor = std::make_unique<Supervisor>(std::move(passed_fd), policy_, container_id_, log_);
            supervisor->start();
            supervisors_.push_back(std::move(supervisor));
        } catch (const std::exception& e) {
            return std::string("error ") + e.what();
        }
        return ok;
    }
    return "error unknown request";
}

}  // namespace tether::hooks
