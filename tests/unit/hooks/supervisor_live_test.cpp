// Real processes under the real notify filter, supervised by this test
// process, against servers on the loopback that count who reached them.
// Host-network mode: the child shares this process's network namespace, so
// 127.0.0.1 is "the host's" loopback here.
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "hooks/common/decision_log.hpp"
#include "supervisor_test_support.hpp"
#include "tests/unit/scratch_dir.hpp"

namespace tether::hooks::testing {
namespace {

#define CHILD_EXPECT(cond)                                                        \
    do {                                                                          \
        if (!(cond)) {                                                            \
            std::fprintf(stderr, "child check failed at line %d: %s (errno %s)\n", \
                         __LINE__, #cond, std::strerror(errno));                  \
            return 1;                                                             \
        }                                                                         \
    } while (0)

// Every test runs twice: with the supervisor's io_uring batches
// (socket_ring.hpp) and with plain syscalls, as on a host where io_uring is
// disabled (TETHER_NETD_IO_URING=0 stands in for that).
class SupervisorLive : public ::testing::TestWithParam<bool> {
protected:
    void SetUp() override {
        if (GetParam()) ::unsetenv("TETHER_NETD_IO_URING");
        else ::setenv("TETHER_NETD_IO_URING", "0", 1);
        policy_.mode = NetworkMode::host;
        policy_.host_loopback_ports = {allowed_.port()};
    }
    void TearDown() override { ::unsetenv("TETHER_NETD_IO_URING"); }

    std::vector<Decision> decisions() {
        std::ifstream in(log_path_);
        return read_decisions(in, 0, false);
    }

    int run(const std::function<int()>& body) {
        return run_supervised(policy_, log_path_, body, [this] {
            allowed_.start_accepting();
            denied_.start_accepting();
        });
    }

    CountingTcpServer allowed_;
    CountingTcpServer denied_;
    SupervisorPolicy policy_;
    test_support::ScratchDir scratch_{"supervisor"};
    const std::string dir_ = scratch_.path();
    const std::string log_path_ = dir_ + "/decisions.jsonl";
};

TEST_P(SupervisorLive, ConnectToAnAllowedHostLoopbackPortSucceeds) {
    uint16_t port = allowed_.port();
    EXPECT_EQ(run([port] {
                  auto v4 = ipv4_address("127.0.0.1", port);
                  CHILD_EXPECT(connect_errno(AF_INET, SOCK_STREAM, &v4, sizeof v4) == 0);
                  auto v6 = ipv6_address("::1", port);
                  CHILD_EXPECT(connect_errno(AF_INET6, SOCK_STREAM, &v6, sizeof v6) == 0);
                  return 0;
              }),
              0);
    EXPECT_EQ(allowed_.accepted_after_drain(), 2);
    auto log = decisions();
    ASSERT_EQ(log.size(), 2u);
    EXPECT_EQ(log[0].verdict, "allow");
    EXPECT_EQ(log[0].rule, "host-loopback-port");
    EXPECT_EQ(log[0].address, "127.0.0.1");
    EXPECT_EQ(log[0].port, port);
    EXPECT_EQ(log[0].syscall, "connect");
    EXPECT_EQ(log[0].container_id, "test-container");
}

TEST_P(SupervisorLive, EveryLoopbackSpellingOfAnUnlistedPortIsRefused) {
    uint16_t port = denied_.port();
    EXPECT_EQ(run([port] {
                  for (const char* text : {"127.0.0.1", "127.0.0.2", "0.0.0.0"}) {
                      auto a = ipv4_address(text, port);
                      CHILD_EXPECT(connect_errno(AF_INET, SOCK_STREAM, &a, sizeof a) == ECONNREFUSED);
                  }
                  for (const char* text : {"::1", "::ffff:127.0.0.1", "::", "::ffff:0.0.0.0"}) {
                      auto a = ipv6_address(text, port);
                      CHILD_EXPECT(connect_errno(AF_INET6, SOCK_STREAM, &a, sizeof a) == ECONNREFUSED);
                  }
                  return 0;
              }),
              0);
    EXPECT_EQ(denied_.accepted_after_drain(), 0);
    auto log = decisions();
    ASSERT_EQ(log.size(), 7u);
    for (const auto& d : log) {
        EXPECT_EQ(d.verdict, "deny");
        EXPECT_EQ(d.rule, "host-loopback-port-not-listed");
        EXPECT_EQ(d.annotation, "run.tether.network.allowLocalOutboundPorts");
    }
}

TEST_P(SupervisorLive, NonBlockingConnectReturnsInProgressAndCompletes) {
    uint16_t port = allowed_.port();
    EXPECT_EQ(run([port] {
                  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
                  auto a = ipv4_address("127.0.0.1", port);
                  int rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
                  CHILD_EXPECT(rc == 0 || errno == EINPROGRESS);
                  pollfd p{fd.get(), POLLOUT, 0};
                  CHILD_EXPECT(::poll(&p, 1, 10000) == 1);
                  int error = -1;
                  socklen_t length = sizeof error;
                  CHILD_EXPECT(::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length) == 0);
                  CHILD_EXPECT(error == 0);
                  return 0;
              }),
              0);
    EXPECT_EQ(allowed_.accepted_after_drain(), 1);
}

// The supervisor connects a blocking socket without waiting first
// (O_NONBLOCK on the shared file description for two connect calls): the
// caller must get the blocking result and its flags back unchanged.
TEST_P(SupervisorLive, BlockingConnectSucceedsAndLeavesTheSocketBlocking) {
    uint16_t port = allowed_.port();
    EXPECT_EQ(run([port] {
                  for (int i = 0; i < 50; ++i) {
                      UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
                      auto a = ipv4_address("127.0.0.1", port);
                      CHILD_EXPECT(::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
                      CHILD_EXPECT((::fcntl(fd.get(), F_GETFL) & O_NONBLOCK) == 0);
                      CHILD_EXPECT(::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) < 0);
                      CHILD_EXPECT(errno == EISCONN);
                  }
                  return 0;
              }),
              0);
    EXPECT_EQ(allowed_.accepted_after_drain(), 50);
}

// A connect that really waits (the listener's accept queue is full, so its
// SYN is dropped) goes to a worker whose blocking connect honours the
// caller's SO_SNDTIMEO and says what the kernel says to one blocking call:
// EINPROGRESS, with the socket still blocking.
TEST_P(SupervisorLive, BlockingConnectThatMustWaitTimesOutAsWithoutTheSupervisor) {
    UniqueFd full(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    auto any = ipv4_address("127.0.0.1", 0);
    ASSERT_EQ(::bind(full.get(), reinterpret_cast<sockaddr*>(&any), sizeof any), 0);
    ASSERT_EQ(::listen(full.get(), 0), 0);
    socklen_t length = sizeof any;
    ASSERT_EQ(::getsockname(full.get(), reinterpret_cast<sockaddr*>(&any), &length), 0);
    uint16_t port = ntohs(any.sin_port);
    policy_.host_loopback_ports.insert(port);
    EXPECT_EQ(run([port] {
                  auto a = ipv4_address("127.0.0.1", port);
                  // Fill the accept queue (backlog 0 holds one) and then some.
                  std::vector<UniqueFd> fillers;
                  for (int i = 0; i < 3; ++i) {
                      fillers.emplace_back(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
                      ::connect(fillers.back().get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
                  }
                  ::usleep(100 * 1000);
                  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
                  timeval timeout{0, 300 * 1000};
                  CHILD_EXPECT(::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout) == 0);
                  timespec start{}, end{};
                  ::clock_gettime(CLOCK_MONOTONIC, &start);
                  CHILD_EXPECT(::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) < 0);
                  CHILD_EXPECT(errno == EINPROGRESS);
                  ::clock_gettime(CLOCK_MONOTONIC, &end);
                  double waited = (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
                  CHILD_EXPECT(waited > 0.25);
                  CHILD_EXPECT((::fcntl(fd.get(), F_GETFL) & O_NONBLOCK) == 0);
                  // A second blocking call waits again and says EALREADY, as the kernel does.
                  CHILD_EXPECT(::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) < 0);
                  CHILD_EXPECT(errno == EALREADY);
                  return 0;
              }),
              0);
}

// pidfds are kept between calls (pidfd_cache.hpp): short-lived processes
// whose pids the kernel hands out again must each be served as themselves.
TEST_P(SupervisorLive, ManyShortLivedProcessesEachGetTheirOwnDecision) {
    uint16_t allowed = allowed_.port();
    uint16_t denied = denied_.port();
    EXPECT_EQ(run([allowed, denied] {
                  for (int i = 0; i < 40; ++i) {
                      pid_t child = ::fork();
                      if (child == 0) {
                          auto a = ipv4_address("127.0.0.1", i % 2 ? allowed : denied);
                          int rc = connect_errno(AF_INET, SOCK_STREAM, &a, sizeof a);
                          ::_exit(i % 2 ? (rc == 0 ? 0 : 1) : (rc == ECONNREFUSED ? 0 : 2));
                      }
                      int status = 0;
                      CHILD_EXPECT(::waitpid(child, &status, 0) == child);
                      CHILD_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
                  }
                  return 0;
              }),
              0);
    EXPECT_EQ(allowed_.accepted_after_drain(), 20);
    EXPECT_EQ(denied_.accepted_after_drain(), 0);
}

TEST_P(SupervisorLive, UdpToAnUnlistedPortIsRefusedAndToAListedPortArrives) {
    CountingUdpServer listed, unlisted;
    policy_.host_loopback_ports = {listed.port()};
    uint16_t good = listed.port(), bad = unlisted.port();
    EXPECT_EQ(run([good, bad] {
                  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
                  auto to_bad = ipv4_address("127.0.0.1", bad);
                  CHILD_EXPECT(::sendto(fd.get(), "x", 1, 0, reinterpret_cast<sockaddr*>(&to_bad), sizeof to_bad) <
                               0);
                  CHILD_EXPECT(errno == ECONNREFUSED);
                  // sendmsg with msg_name is decided the same way.
                  iovec iov{const_cast<char*>("y"), 1};
                  msghdr m{};
                  m.msg_name = &to_bad;
                  m.msg_namelen = sizeof to_bad;
                  m.msg_iov = &iov;
                  m.msg_iovlen = 1;
                  CHILD_EXPECT(::sendmsg(fd.get(), &m, 0) < 0 && errno == ECONNREFUSED);
                  auto to_good = ipv4_address("127.0.0.1", good);
                  CHILD_EXPECT(::sendto(fd.get(), "z", 1, 0, reinterpret_cast<sockaddr*>(&to_good), sizeof to_good) ==
                               1);
                  m.msg_name = &to_good;
                  CHILD_EXPECT(::sendmsg(fd.get(), &m, 0) == 1);
                  // A connected UDP socket: its peer was decided at connect.
                  CHILD_EXPECT(::connect(fd.get(), reinterpret_cast<sockaddr*>(&to_good), sizeof to_good) == 0);
                  CHILD_EXPECT(::send(fd.get(), "w", 1, 0) == 1);
                  return 0;
              }),
              0);
    EXPECT_EQ(unlisted.drain(), 0);
    EXPECT_EQ(listed.drain(), 3);
}

// The attack the copy-then-perform design stops: with
// SECCOMP_USER_NOTIF_FLAG_CONTINUE the kernel would re-read the sockaddr
// after the check, and a second thread rewriting it would win sometimes.
TEST_P(SupervisorLive, RewritingTheSockaddrDuringTheCheckNeverReachesTheDeniedServer) {
    uint16_t good = allowed_.port(), bad = denied_.port();
    EXPECT_EQ(run([good, bad] {
                  static sockaddr_in shared;
                  shared = ipv4_address("127.0.0.1", good);
                  std::atomic<bool> done{false};
                  std::thread flipper([&] {
                      volatile uint16_t* port = &shared.sin_port;
                      while (!done.load(std::memory_order_relaxed)) {
                          *port = htons(good);
                          *port = htons(bad);
                      }
                  });
                  int connected = 0;
                  for (int i = 0; i < 2000; ++i) {
                      UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
                      if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&shared), sizeof shared) == 0) ++connected;
                  }
                  done = true;
                  flipper.join();
                  std::fprintf(stderr, "race: %d of 2000 connects allowed\n", connected);
                  CHILD_EXPECT(connected > 0);
                  return 0;
              }),
              0);
    EXPECT_EQ(denied_.accepted_after_drain(), 0);
    EXPECT_GT(allowed_.accepted_after_drain(), 0);
}

TEST_P(SupervisorLive, BindingBelow1024WithoutCapNetBindServiceIsRefused) {
    EXPECT_EQ(run([] {
                  // Drop CAP_NET_BIND_SERVICE from the effective set only.
                  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
                  __user_cap_data_struct data[2]{};
                  CHILD_EXPECT(::syscall(SYS_capget, &header, data) == 0);
                  data[0].effective &= ~(1u << CAP_NET_BIND_SERVICE);
                  CHILD_EXPECT(::syscall(SYS_capset, &header, data) == 0);
                  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
                  auto a = ipv4_address("127.0.0.1", 999);
                  CHILD_EXPECT(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 && errno == EACCES);
                  return 0;
              }),
              0);
    auto log = decisions();
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0].rule, "privileged-port-needs-CAP_NET_BIND_SERVICE");
}

TEST_P(SupervisorLive, WildcardBindOnHostNetworkIsNarrowedToLoopbackAndItsPortReachable) {
    EXPECT_EQ(run([] {
                  UniqueFd server(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
                  auto any = ipv4_address("0.0.0.0", 0);
                  CHILD_EXPECT(::bind(server.get(), reinterpret_cast<sockaddr*>(&any), sizeof any) == 0);
                  sockaddr_in bound{};
                  socklen_t length = sizeof bound;
                  CHILD_EXPECT(::getsockname(server.get(), reinterpret_cast<sockaddr*>(&bound), &length) == 0);
                  CHILD_EXPECT(bound.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
                  CHILD_EXPECT(::listen(server.get(), 4) == 0);
                  // Its own server is reachable although the port is not listed.
                  CHILD_EXPECT(connect_errno(AF_INET, SOCK_STREAM, &bound, sizeof bound) == 0);
                  return 0;
              }),
              0);
}

TEST_P(SupervisorLive, UnixSocketConnectsAreLeftToTheKernel) {
    std::string path = dir_ + "/unix.sock";
    UniqueFd server(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
    ASSERT_EQ(::bind(server.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ASSERT_EQ(::listen(server.get(), 4), 0);
    EXPECT_EQ(run([&address] {
                  CHILD_EXPECT(connect_errno(AF_UNIX, SOCK_STREAM, &address, sizeof address) == 0);
                  return 0;
              }),
              0);
    ::unlink(path.c_str());
}

TEST_P(SupervisorLive, AuditModeAllowsAndLogsWhatItWouldDeny) {
    policy_.audit = true;
    uint16_t port = denied_.port();
    EXPECT_EQ(run([port] {
                  auto a = ipv4_address("127.0.0.1", port);
                  CHILD_EXPECT(connect_errno(AF_INET, SOCK_STREAM, &a, sizeof a) == 0);
                  return 0;
              }),
              0);
    EXPECT_EQ(denied_.accepted_after_drain(), 1);
    auto log = decisions();
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0].verdict, "audit-deny");
}

TEST_P(SupervisorLive, AnInvalidSockaddrPointerFailsWithEfault) {
    EXPECT_EQ(run([] {
                  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
                  CHILD_EXPECT(::connect(fd.get(), reinterpret_cast<sockaddr*>(16), sizeof(sockaddr_in)) < 0);
                  CHILD_EXPECT(errno == EFAULT);
                  CHILD_EXPECT(::connect(12345, reinterpret_cast<sockaddr*>(16), sizeof(sockaddr_in)) < 0);
                  CHILD_EXPECT(errno == EBADF);
                  return 0;
              }),
              0);
}

// Without a poll() before each receive the supervisor learns that every
// process of the container is gone from its watcher thread (supervisor.hpp):
// it must end by itself, and still have logged every call.
TEST_P(SupervisorLive, EndsByItselfWhenTheContainerIsGoneAndHasLoggedEverything) {
    uint16_t port = allowed_.port();
    int status = run_supervised(
        policy_, log_path_,
        [port] {
            for (int i = 0; i < 20; ++i) {
                auto a = ipv4_address("127.0.0.1", port);
                CHILD_EXPECT(connect_errno(AF_INET, SOCK_STREAM, &a, sizeof a) == 0);
            }
            return 0;
        },
        [this] { allowed_.start_accepting(); }, SupervisorEnd::hang_up);
    ASSERT_NE(status, kSupervisorDidNotEnd) << "the supervisor did not end after the child exited";
    EXPECT_EQ(status, 0);
    auto log = decisions();
    ASSERT_EQ(log.size(), 20u);
    for (const auto& d : log) EXPECT_EQ(d.verdict, "allow");
}

INSTANTIATE_TEST_SUITE_P(Syscalls, SupervisorLive, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) {
                             return info.param ? "IoUring" : "PlainSyscalls";
                         });

}  // namespace
}  // namespace tether::hooks::testing
