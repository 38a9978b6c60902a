#include "runtime/linux/sync_channel.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "runtime/core/error.hpp"
#include "runtime/core/fd_passing.hpp"

namespace tether::os {

std::pair<SyncChannel, SyncChannel> SyncChannel::make_pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) throw_errno("socketpair");
    int on = 1;
    ::setsockopt(fds[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
    return {SyncChannel(UniqueFd(fds[0])), SyncChannel(UniqueFd(fds[1]))};
}

namespace {

// One message: the 4-byte type, then the payload.
std::string datagram_of(SyncType type, const std::string& payload) {
    std::string datagram(sizeof(uint32_t), '\0');
    uint32_t raw = static_cast<uint32_t>(type);
    std::memcpy(datagram.data(), &raw, sizeof raw);
    return datagram + payload;
}

}  // namespace

void SyncChannel::send(SyncType type, const std::string& payload) {
    const std::string datagram = datagram_of(type, payload);
    // write(2), not send(2): see the header.
    ssize_t n = retry_eintr([&] { return ::write(fd_.get(), datagram.data(), datagram.size()); });
    if (n < 0) throw_errno("write to the sync socket");
}

void SyncChannel::send_with_fds(SyncType type, const std::string& payload, const std::vector<int>& fds) {
    if (fds.size() > kMaxSyncFds) throw Error("too many fds for one message on the sync socket");
    if (::tether::send_with_fds(fd_.get(), datagram_of(type, payload), std::span<const int>(fds)) < 0)
        throw_errno("write to the sync socket");
}

SyncMessage SyncChannel::receive() {
    std::vector<char> buffer(65536);
    struct iovec iov {buffer.data(), buffer.size()};
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * kMaxSyncFds)];
    struct msghdr msg {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = retry_eintr([&] { return ::recvmsg(fd_.get(), &msg, MSG_CMSG_CLOEXEC); });
    // A child that exits with a message of ours unread (hooks_done sent as
    // it failed) leaves a reset on our end, and the kernel reports it before
    // the messages queued here: the child's `error` among them. The reset
    // is cleared by the read that returns it; what was queued comes next
    // (or EOF).
    if (n < 0 && errno == ECONNRESET) {
        msg.msg_controllen = sizeof control;
        n = retry_eintr([&] { return ::recvmsg(fd_.get(), &msg, MSG_CMSG_CLOEXEC); });
    }
    if (n < 0) throw_errno("read from the sync socket");
    if (n == 0) throw Error("the container init exited before it finished its setup");
    if (static_cast<size_t>(n) < sizeof(uint32_t)) throw Error("short message on the sync socket");
    SyncMessage message;
    uint32_t raw;
    std::memcpy(&raw, buffer.data(), sizeof raw);
    message.type = static_cast<SyncType>(raw);
    message.payload.assign(buffer.data() + sizeof raw, static_cast<size_t>(n) - sizeof raw);
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
            struct ucred cred;
            std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
            message.sender_pid = cred.pid;
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < count; ++i) {
                int fd;
                std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                message.fds.emplace_back(fd);
            }
        }
    }
    return message;
}

SyncMessage SyncChannel::expect(SyncType type) {
    SyncMessage message = receive();
    if (message.type == SyncType::error) throw Error(message.payload);
    if (message.type != type)
        throw Error("unexpected message " + std::to_string(static_cast<uint32_t>(message.type)) +
                    " on the sync socket");
    return message;
}

}  // namespace tether::os
