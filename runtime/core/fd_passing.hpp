// An fd sent over a unix socket with its message (SCM_RIGHTS): the console
// master to --console-socket, the seccomp listener to listenerPath and to
// tether-netd, and `go`'s fds to the init (sync_channel.hpp). One sendmsg and
// one recvmsg, written once. (The container's own processes never pass fds
// this way to us: a filter may trap sendmsg, so they write fd numbers on the
// sync channel instead, sync_messages.hpp.)
#pragma once

#include <sys/socket.h>

#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "runtime/core/error.hpp"
#include "runtime/core/unique_fd.hpp"

namespace tether {

// Sends `data` with all of `fds` attached in one sendmsg (none: the data
// alone); otherwise as send_with_fd below.
inline ssize_t send_with_fds(int sock, std::string_view data, std::span<const int> fds) {
    struct iovec iov {const_cast<char*>(data.data()), data.size()};
    std::vector<char> control(fds.empty() ? 0 : CMSG_SPACE(sizeof(int) * fds.size()));
    struct msghdr message {};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    if (!fds.empty()) {
        message.msg_control = control.data();
        message.msg_controllen = control.size();
        struct cmsghdr* header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(header), fds.data(), sizeof(int) * fds.size());
    }
    return retry_eintr([&] { return ::sendmsg(sock, &message, MSG_NOSIGNAL); });
}

// Sends `data` with `fd` attached in one sendmsg (MSG_NOSIGNAL: a reader that
// went away is an EPIPE, not our death); fd < 0 sends the data alone.
// Returns what sendmsg returns: the bytes sent (on a stream socket maybe
// fewer than data.size(); the fd went with them), or -1 with errno.
inline ssize_t send_with_fd(int sock, std::string_view data, int fd) {
    return fd >= 0 ? send_with_fds(sock, data, std::span<const int>(&fd, 1)) : send_with_fds(sock, data, {});
}

// Receives one message into buffer[0, size) and the fd attached to it, if
// any, close-on-exec (invalid when none came). Returns what recvmsg returns.
inline ssize_t receive_with_fd(int sock, char* buffer, size_t size, UniqueFd& fd) {
    struct iovec iov {buffer, size};
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    struct msghdr message {};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    ssize_t n = retry_eintr([&] { return ::recvmsg(sock, &message, MSG_CMSG_CLOEXEC); });
    if (n < 0) return n;
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&message); c; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int received;
            std::memcpy(&received, CMSG_DATA(c), sizeof received);
            fd = UniqueFd(received);
        }
    }
    return n;
}

}  // namespace tether
