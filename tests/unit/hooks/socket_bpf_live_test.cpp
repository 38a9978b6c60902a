// Live tests of the cgroup socket programs (hooks/bpf): a child placed in a
// scratch cgroup v2 with the programs attached makes real calls to servers on
// the loopback that would accept them without the programs. Root and a
// cgroup2 mount are needed; otherwise the tests skip.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "hooks/bpf/original_destinations.hpp"
#include "hooks/bpf/socket_enforcement.hpp"
#include "hooks/bpf/socket_events.hpp"
#include "runtime/core/bpf_syscall.hpp"
#include "tests/unit/hooks/cgroup_socket_support.hpp"
#include "tests/unit/hooks/supervisor_test_support.hpp"

namespace tether::hooks::bpf {

using tether::bpf::attached_program_ids;

namespace {

using testing::CountingTcpServer;
using testing::CountingUdpServer;

class SocketBpfLive : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root";
        if (cgroup_.path().empty()) GTEST_SKIP() << "no cgroup v2 hierarchy to make a scratch cgroup in";
        tcp_.start_accepting();
    }

    SocketRules host_rules() {
        SocketRules rules;
        rules.mode = NetworkMode::host;
        rules.host_loopback_ports = {{tcp_.port(), tcp_.port()}, {udp_.port(), udp_.port()}};
        rules.track_bound_ports = true;
        rules.bind_ports = std::vector<PortSpan>{{1024, 65535}};
        return rules;
    }

    ScratchCgroup cgroup_;
    CountingTcpServer tcp_;
    CountingTcpServer other_tcp_;  // listening, never listed
    CountingUdpServer udp_;
    CountingUdpServer other_udp_;
};

TEST_F(SocketBpfLive, HostNetworkListedPortsOnlyInEverySpelling) {
    auto e = SocketEnforcement::attach(host_rules(), cgroup_.path());
    EXPECT_EQ(in_cgroup(cgroup_.path(), [&] { return tcp_connect("127.0.0.1", tcp_.port()); }), 0);
    for (const char* spelling : {"127.0.0.1", "127.0.0.2", "0.0.0.0", "::1", "::", "::ffff:127.0.0.1"}) {
        SCOPED_TRACE(spelling);
        EXPECT_EQ(in_cgroup(cgroup_.path(), [&] { return tcp_connect(spelling, other_tcp_.port()); }), ECONNREFUSED);
        EXPECT_EQ(in_cgroup(cgroup_.path(), [&] { return udp_sendto(spelling, other_udp_.port()); }), ECONNREFUSED);
    }
    EXPECT_EQ(in_cgroup(cgroup_.path(), [&] { return udp_sendto("::ffff:127.0.0.1", udp_.port()); }), 0);
    EXPECT_EQ(other_udp_.drain(), 0);
    EXPECT_EQ(udp_.drain(), 1);
    // Outside the cgroup nothing changes.
    EXPECT_EQ(tcp_connect("127.0.0.1", other_tcp_.port()), 0);
}

TEST_F(SocketBpfLive, OwnNamespaceAllowsItsLoopback) {
    SocketRules rules;
    rules.mode = NetworkMode::own_namespace;
    auto e = SocketEnforcement::attach(rules, cgroup_.path());
    EXPECT_EQ(in_cgroup(cgroup_.path(), [&] { return tcp_connect("127.0.0.1", other_tcp_.port()); }), 0);
    EXPECT_EQ(in_cgroup(cgroup_.path(), [&] { return udp_sendto("::1", other_udp_.port()); }), 0);
}

TEST_F(SocketBpfLive, AuditModeAllowsAndLogsWhatWouldBeDenied) {
    SocketRules rules = host_rules();
    rules.audit = true;
    auto e = SocketEnforcement::attach(rules, cgroup_.path());
    char path[] = "/tmp/tether-bpf-log-XXXXXX";
    int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    ::close(fd);
    {
        auto log = std::make_shared<DecisionLog>(path);
        UniqueFd ring(::dup(e.events_fd()));
        SocketEventReader reader(std::move(ring), kEventRingBytes, "c1", log);
        EXPECT_EQ(in_cgroup(cgroup_.path(), [&] { return tcp_connect("127.0.0.1", other_tcp_.port()); }), 0);
        reader.drain();
        log->flush();
    }
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    ::unlink(path);
    EXPECT_NE(text.find("\"verdict\":\"audit-deny\""), std::string::npos) << text;
    EXPECT_NE(text.find("\"rule\":\"host-loopback-port-not-listed\""), std::string::npos) << text;
    EXPECT_NE(text.find("\"port\":" + std::to_string(other_tcp_.port())), std::string::npos) << text;
}

TEST_F(SocketBpfLive, DenialsAreLoggedWithPidAndComm) {
    auto e = SocketEnforcement::attach(host_rules(), cgroup_.path());
    char path[] = "/tmp/tether-bpf-log-XXXXXX";
    int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    ::close(fd);
    int child_pid = 0;
    {
        auto log = std::make_shared<DecisionLog>(path);
        SocketEventReader reader(UniqueFd(::dup(e.events_fd())), kEventRingBytes, "c1", log);
        EXPECT_EQ(in_cgroup(cgroup_.path(),
                            [&] {
                                int r = udp_sendto("127.0.0.1", other_udp_.port());
                                int pid = ::getpid();
                                [[maybe_unused]] auto n = ::write(STDERR_FILENO, "", 0);
                                return r == ECONNREFUSED ? pid : -r;
                            }) > 0,
                  true);
        reader.drain();
        log->flush();
    }
    (void)child_pid;
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    ::unlink(path);
    EXPECT_NE(text.find("\"syscall\":\"sendmsg\""), std::string::npos) << text;
    EXPECT_NE(text.find("\"verdict\":\"deny\""), std::string::npos) << text;
    EXPECT_NE(text.find("\"annotation\":\"run.tether.network.allowLocalOutboundPorts\""), std::string::npos) << text;
    EXPECT_NE(text.find("\"comm\":\"tether_hooks_te\""), std::string::npos) << text;
}

TEST_F(SocketBpfLive, HostNetworkBindsAreNarrowedAndBoundPortsReachable) {
    auto e = SocketEnforcement::attach(host_rules(), cgroup_.path());
    int result = in_cgroup(cgroup_.path(), [&] {
        int server = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in any{};
        any.sin_family = AF_INET;
        if (::bind(server, reinterpret_cast<sockaddr*>(&any), sizeof any) != 0) return 1000 + errno;
        if (::listen(server, 4) != 0) return 2000 + errno;
        sockaddr_in bound{};
        socklen_t length = sizeof bound;
        ::getsockname(server, reinterpret_cast<sockaddr*>(&bound), &length);
        if (bound.sin_addr.s_addr != htonl(INADDR_LOOPBACK)) return 3000;  // not narrowed
        // Its own server is reachable although its port is not listed.
        return tcp_connect("127.0.0.1", ntohs(bound.sin_port));
    });
    EXPECT_EQ(result, 0);
    // Below the bind list: refused with EACCES.
    EXPECT_EQ(in_cgroup(cgroup_.path(),
                        [&] {
                            int s = ::socket(AF_INET6, SOCK_DGRAM, 0);
                            socklen_t length;
                            sockaddr_storage a = address("::1", 1000, length);
                            return ::bind(s, reinterpret_cast<sockaddr*>(&a), length) == 0 ? 0 : errno;
                        }),
              EACCES);
}

TEST_F(SocketBpfLive, AttachedProgramsAreInTheCgroupAndGoWithIt) {
    std::vector<uint32_t> ids;
    {
        auto e = SocketEnforcement::attach(host_rules(), cgroup_.path());
        ids = e.program_ids();
        EXPECT_EQ(ids.size(), 8u);
        UniqueFd dir(::open(cgroup_.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        EXPECT_EQ(attached_program_ids(dir.get(), BPF_CGROUP_UDP4_SENDMSG).size(), 1u);
    }
    // The SocketEnforcement is gone but the programs stay with the cgroup.
    UniqueFd dir(::open(cgroup_.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    EXPECT_EQ(attached_program_ids(dir.get(), BPF_CGROUP_INET4_CONNECT).size(), 1u);
}

// Transparent egress: a listener on 127.0.0.1:P and [::1]:P (one port for
// both families, as the daemon's), standing for the proxy.
class TransparentListener {
public:
    TransparentListener() {
        v4_ = hooks::listen_tcp(hooks::loopback_v4(0));
        port_ = hooks::local_port(v4_.get());
        v6_ = hooks::listen_tcp(hooks::loopback_v6(port_));
    }
    uint16_t port() const { return port_; }
    // The next connection's peer (the client end), waiting up to 2 s.
    std::optional<SocketAddress> next_peer() {
        for (int i = 0; i < 200; ++i) {
            for (int fd : {v4_.get(), v6_.get()}) {
                sockaddr_storage peer{};
                socklen_t length = sizeof peer;
                int c = ::accept4(fd, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_CLOEXEC);
                if (c >= 0) {
                    ::close(c);
                    return SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&peer), length);
                }
            }
            ::usleep(10000);
        }
        return std::nullopt;
    }

private:
    UniqueFd v4_, v6_;
    uint16_t port_ = 0;
};

TEST_F(SocketBpfLive, TransparentModeRedirectsTcpToTheListenerWithItsOriginalDestination) {
    TransparentListener listener;
    SocketRules rules;
    rules.mode = NetworkMode::own_namespace;
    rules.transparent_port = listener.port();
    auto e = SocketEnforcement::attach(rules, cgroup_.path());
    ASSERT_GE(e.original_destinations_fd(), 0);
    OriginalDestinations originals(UniqueFd(::dup(e.original_destinations_fd())));

    // TEST-NET addresses: nothing routes there; only the redirect connects.
    struct Case {
        const char* to;
        const char* original;
    };
    for (Case c : {Case{"192.0.2.7", "192.0.2.7:443"}, Case{"2001:db8::7", "[2001:db8::7]:443"},
                   Case{"::ffff:198.51.100.9", "198.51.100.9:443"}}) {
        SCOPED_TRACE(c.to);
        EXPECT_EQ(in_cgroup(cgroup_.path(), [&] { return tcp_connect(c.to, 443); }), 0);
        auto peer = listener.next_peer();
        ASSERT_TRUE(peer);
        auto original = originals.take(*peer);
        ASSERT_TRUE(original);
        EXPECT_EQ(original->to_string(), c.original);
        // Used once.
        EXPECT_FALSE(originals.take(*peer));
    }
    // UDP to the outside stays refused; loopback is not redirected.
    EXPECT_EQ(in_cgroup(cgroup_.path(), [&] { return udp_sendto("192.0.2.7", 53); }), EACCES);
    EXPECT_EQ(in_cgroup(cgroup_.path(), [&] { return tcp_connect("127.0.0.1", other_tcp_.port()); }), 0);
    // A connect straight to the listener has no original destination.
    EXPECT_EQ(in_cgroup(cgroup_.path(), [&] { return tcp_connect("127.0.0.1", listener.port()); }), 0);
    auto peer = listener.next_peer();
    ASSERT_TRUE(peer);
    EXPECT_FALSE(originals.take(*peer));
}

// A record nobody took (the proxy never accepted the connection) must not
// be inherited by the next connection from the same address and port: the
// handoff program deletes it when that connect is not redirected.
TEST_F(SocketBpfLive, TransparentModeLeavesNoStaleOriginalDestination) {
    TransparentListener listener;
    SocketRules rules;
    rules.mode = NetworkMode::own_namespace;
    rules.transparent_port = listener.port();
    auto e = SocketEnforcement::attach(rules, cgroup_.path());
    OriginalDestinations originals(UniqueFd(::dup(e.original_destinations_fd())));
    uint16_t client_port = hooks::local_port(hooks::listen_tcp(hooks::loopback_v4(0)).get());
    int result = in_cgroup(cgroup_.path(), [&] {
        auto bound_socket = [&] {
            int fd = ::socket(AF_INET, SOCK_STREAM, 0), one = 1;
            ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            sockaddr_in local{};
            local.sin_family = AF_INET;
            local.sin_port = htons(client_port);
            local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            return ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0 ? fd : -1;
        };
        socklen_t length;
        int first = bound_socket();
        if (first < 0) return 1000 + errno;
        sockaddr_storage outside = address("192.0.2.7", 443, length);
        if (::connect(first, reinterpret_cast<sockaddr*>(&outside), length) != 0) return 2000 + errno;
        // Reset, not closed: no TIME_WAIT keeps the port.
        linger reset{1, 0};
        ::setsockopt(first, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        ::close(first);
        int second = bound_socket();
        if (second < 0) return 3000 + errno;
        sockaddr_storage direct = address("127.0.0.1", listener.port(), length);
        if (::connect(second, reinterpret_cast<sockaddr*>(&direct), length) != 0) return 4000 + errno;
        ::close(second);
        return 0;
    });
    ASSERT_EQ(result, 0);
    // Both reached the backlog; the second names nothing.
    ASSERT_TRUE(listener.next_peer());
    auto peer = listener.next_peer();
    ASSERT_TRUE(peer);
    EXPECT_EQ(peer->port(), client_port);
    EXPECT_FALSE(originals.take(*peer));
}

TEST_F(SocketBpfLive, WithoutTransparentModeADirectConnectIsRefused) {
    SocketRules rules;
    rules.mode = NetworkMode::own_namespace;
    auto e = SocketEnforcement::attach(rules, cgroup_.path());
    EXPECT_EQ(e.original_destinations_fd(), -1);
    EXPECT_EQ(in_cgroup(cgroup_.path(), [&] { return tcp_connect("192.0.2.7", 443); }), EACCES);
}

// A UDP server on 127.0.0.1 that echoes each datagram back (the DNS
// responder's stand-in).
class UdpEcho {
public:
    UdpEcho() {
        fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
        socklen_t length = sizeof a;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &length);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] {
            char buffer[512];
            for (;;) {
                sockaddr_storage from{};
                socklen_t from_length = sizeof from;
                ssize_t n = ::recvfrom(fd_, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &from_length);
                if (n <= 0) return;
                if (n == 4 && std::memcmp(buffer, "stop", 4) == 0) return;
                ::sendto(fd_, buffer, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), from_length);
            }
        });
    }
    ~UdpEcho() {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port_);
        int s = ::socket(AF_INET, SOCK_DGRAM, 0);
        ::sendto(s, "stop", 4, 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::close(s);
        thread_.join();
        ::close(fd_);
    }
    uint16_t port() const { return port_; }

private:
    int fd_ = -1;
    uint16_t port_ = 0;
    std::thread thread_;
};

// Sends "q" to `to`:53 (connected first when `connected`), and returns 0
// when the echo comes back with `to`:53 as its source, else an errno or -1.
int udp_query(const char* to, bool connected) {
    socklen_t length;
    sockaddr_storage a = address(to, 53, length);
    int fd = ::socket(a.ss_family, SOCK_DGRAM, 0);
    timeval timeout{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ssize_t sent = connected ? (::connect(fd, reinterpret_cast<sockaddr*>(&a), length) == 0 ? ::send(fd, "q", 1, 0) : -1)
                             : ::sendto(fd, "q", 1, 0, reinterpret_cast<sockaddr*>(&a), length);
    if (sent != 1) {
        int e = errno;
        ::close(fd);
        return e;
    }
    char buffer[16];
    sockaddr_storage from{};
    socklen_t from_length = sizeof from;
    ssize_t n = ::recvfrom(fd, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &from_length);
    ::close(fd);
    if (n != 1 || buffer[0] != 'q') return -1;
    if (from_length != length || std::memcmp(&from, &a, length) != 0) return -2;
    return 0;
}

TEST_F(SocketBpfLive, DnsQueriesToAnyAddressGoToTheResponderAndComeBackFromThatAddress) {
    UdpEcho responder;
    SocketRules rules;
    rules.mode = NetworkMode::own_namespace;
    rules.dns_port = responder.port();
    auto e = SocketEnforcement::attach(rules, cgroup_.path());
    for (bool connected : {false, true}) {
        SCOPED_TRACE(connected ? "connected" : "sendto");
        // TEST-NET: nothing routes there; only the redirect answers.
        EXPECT_EQ(in_cgroup(cgroup_.path(), [&] { return udp_query("192.0.2.7", connected); }), 0);
        EXPECT_EQ(in_cgroup(cgroup_.path(), [&] { return udp_query("127.0.0.53", connected); }), 0);
        EXPECT_EQ(in_cgroup(cgroup_.path(), [&] { return udp_query("::ffff:198.51.100.9", connected); }), 0);
    }
    // Only port 53: other UDP to the outside stays refused.
    EXPECT_EQ(in_cgroup(cgroup_.path(), [&] { return udp_sendto("192.0.2.7", 443); }), EACCES);
    // TCP 53 is not the responder's (a direct connect, refused without transparent mode).
    EXPECT_EQ(in_cgroup(cgroup_.path(), [&] { return tcp_connect("192.0.2.7", 53); }), EACCES);
}

}  // namespace
}  // namespace tether::hooks::bpf
