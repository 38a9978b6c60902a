// The supervisor's io_uring batches (hooks/supervisor/socket_ring.hpp)
// against real sockets on the loopback.
#include "hooks/supervisor/socket_ring.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include <gtest/gtest.h>

namespace tether::hooks {
namespace {

sockaddr_in loopback(uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    return a;
}

// A listener on 127.0.0.1:<ephemeral> with the given backlog.
struct Listener {
    UniqueFd fd;
    sockaddr_in address{};
    explicit Listener(int backlog) {
        fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        address = loopback(0);
        socklen_t length = sizeof address;
        if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), length) != 0 || ::listen(fd.get(), backlog) != 0 ||
            ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0)
            fd.reset();
    }
};

int tcp_state(int fd) {
    tcp_info info{};
    socklen_t length = sizeof info;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return -1;
    return info.tcpi_state;
}

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

class SocketRingTest : public ::testing::Test {
protected:
    void SetUp() override {
        ring_ = SocketRing::open();
        if (!ring_) GTEST_SKIP() << "io_uring cannot do the supervisor's batches on this kernel";
    }
    std::unique_ptr<SocketRing> ring_;
};

TEST(SocketRingKnob, TetherNetdIoUring0DisablesIt) {
    ::setenv("TETHER_NETD_IO_URING", "0", 1);
    EXPECT_EQ(SocketRing::open(), nullptr);
    ::unsetenv("TETHER_NETD_IO_URING");
}

TEST_F(SocketRingTest, DomainAndTypeOfSocketsOfEveryKindTheContainerCanMake) {
    if (!ring_->has_getsockopt()) GTEST_SKIP() << "no SOCKET_URING_OP_GETSOCKOPT (Linux < 6.7)";
    struct Case {
        int domain, type;
    };
    for (Case c : {Case{AF_INET, SOCK_STREAM}, Case{AF_INET, SOCK_DGRAM}, Case{AF_INET6, SOCK_STREAM},
                   Case{AF_INET6, SOCK_DGRAM}, Case{AF_UNIX, SOCK_SEQPACKET}, Case{AF_UNIX, SOCK_DGRAM}}) {
        UniqueFd fd(::socket(c.domain, c.type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        ASSERT_TRUE(fd);
        SocketRing::SocketKind kind = ring_->domain_and_type(fd.get());
        EXPECT_EQ(kind.error, 0);
        EXPECT_EQ(kind.domain, c.domain);
        EXPECT_EQ(kind.type, c.type);  // without SOCK_NONBLOCK: SO_TYPE never has it
    }
}

TEST_F(SocketRingTest, DomainAndTypeOfSomethingThatIsNoSocketIsAnError) {
    if (!ring_->has_getsockopt()) GTEST_SKIP() << "no SOCKET_URING_OP_GETSOCKOPT (Linux < 6.7)";
    int pipe_fds[2];
    ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
    UniqueFd r(pipe_fds[0]), w(pipe_fds[1]);
    // (io_uring answers EOPNOTSUPP: a pipe has no socket commands.)
    EXPECT_NE(ring_->domain_and_type(r.get()).error, 0);
}

TEST_F(SocketRingTest, ConnectsABlockingSocketClosesTheDuplicateAndLeavesTheFlagsAlone) {
    Listener listener(16);
    ASSERT_TRUE(listener.fd);
    UniqueFd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    UniqueFd duplicate(::fcntl(socket.get(), F_DUPFD_CLOEXEC, 0));  // what pidfd_getfd gives the supervisor
    int number = duplicate.get();
    auto result = ring_->connect_and_close(duplicate.release(), reinterpret_cast<sockaddr*>(&listener.address),
                                           sizeof listener.address);
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(*result, 0);
    EXPECT_EQ(tcp_state(socket.get()), TCP_ESTABLISHED);
    EXPECT_FALSE(is_open(number)) << "the duplicate was not closed";
    EXPECT_EQ(::fcntl(socket.get(), F_GETFL) & O_NONBLOCK, 0);
    UniqueFd peer(::accept4(listener.fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
    EXPECT_TRUE(peer);
}

TEST_F(SocketRingTest, AClosedPortSaysConnectionRefused) {
    Listener listener(16);
    ASSERT_TRUE(listener.fd);
    sockaddr_in closed = listener.address;
    listener.fd.reset();  // nobody listens there any more
    UniqueFd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    auto result = ring_->connect_and_close(::fcntl(socket.get(), F_DUPFD_CLOEXEC, 0),
                                           reinterpret_cast<sockaddr*>(&closed), sizeof closed);
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(*result, -ECONNREFUSED);
}

TEST_F(SocketRingTest, AConnectThatMustWaitIsCancelledAndLeftConnecting) {
    // backlog 0 holds one connection; the fillers take it, so the next SYN
    // is dropped and the handshake waits for a retransmission.
    Listener listener(0);
    ASSERT_TRUE(listener.fd);
    std::vector<UniqueFd> fillers;
    for (int i = 0; i < 3; ++i) {
        fillers.emplace_back(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        ::connect(fillers.back().get(), reinterpret_cast<sockaddr*>(&listener.address), sizeof listener.address);
    }
    ::usleep(100 * 1000);
    UniqueFd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    auto result = ring_->connect_and_close(::fcntl(socket.get(), F_DUPFD_CLOEXEC, 0),
                                           reinterpret_cast<sockaddr*>(&listener.address), sizeof listener.address);
    EXPECT_FALSE(result.has_value()) << "result " << *result;
    EXPECT_EQ(tcp_state(socket.get()), TCP_SYN_SENT);
    EXPECT_EQ(::fcntl(socket.get(), F_GETFL) & O_NONBLOCK, 0);

    // A socket already connecting: the kernel says EALREADY to an attempt
    // that does not wait.
    auto again = ring_->connect_and_close(::fcntl(socket.get(), F_DUPFD_CLOEXEC, 0),
                                          reinterpret_cast<sockaddr*>(&listener.address), sizeof listener.address);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(*again, -EALREADY);
}

TEST_F(SocketRingTest, ManyConnectsInARowLeaveNoDuplicateOpen) {
    Listener listener(128);
    ASSERT_TRUE(listener.fd);
    for (int i = 0; i < 200; ++i) {
        UniqueFd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        int number = ::fcntl(socket.get(), F_DUPFD_CLOEXEC, 0);
        auto result = ring_->connect_and_close(number, reinterpret_cast<sockaddr*>(&listener.address),
                                               sizeof listener.address);
        ASSERT_TRUE(result.has_value());
        ASSERT_EQ(*result, 0);
        ASSERT_FALSE(is_open(number));
        UniqueFd peer(::accept4(listener.fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
        ASSERT_TRUE(peer);
    }
}

}  // namespace
}  // namespace tether::hooks
