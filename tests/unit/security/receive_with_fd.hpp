// Test-only: the receiving end of a seccomp listener handoff (the listener
// fd passed over a unix socket with the container's state), for
// process_state_test.cpp and seccomp_behaviour_test.cpp.
#pragma once

#include <sys/socket.h>

#include <cstring>
#include <string>

namespace tether::security::test {

struct ReceivedWithFd {
    std::string text;
    int fd = -1;                       // the SCM_RIGHTS fd (the last, if several); -1: none
    bool fd_with_first_bytes = false;  // it came with the first read
};

// Reads conn to EOF: the bytes and the fd passed with them.
inline ReceivedWithFd receive_to_eof_with_fd(int conn) {
    ReceivedWithFd received;
    for (;;) {
        char buffer[65536];
        iovec iov{buffer, sizeof buffer};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
        msghdr message{};
        message.msg_iov = &iov;
        message.msg_iovlen = 1;
        message.msg_control = control;
        message.msg_controllen = sizeof control;
        ssize_t n = recvmsg(conn, &message, MSG_CMSG_CLOEXEC);
        if (n <= 0) break;
        for (cmsghdr* h = CMSG_FIRSTHDR(&message); h; h = CMSG_NXTHDR(&message, h))
            if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) {
                std::memcpy(&received.fd, CMSG_DATA(h), sizeof(int));
                received.fd_with_first_bytes = received.text.empty();
            }
        received.text.append(buffer, static_cast<size_t>(n));
    }
    return received;
}

}  // namespace tether::security::test
