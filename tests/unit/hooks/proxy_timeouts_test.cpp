// The egress proxy's timeouts on real loopback sockets, with short limits:
// a client that never finishes its request head is disconnected after the
// head timeout (however it trickles), an idle tunnel is closed after the idle
// timeout, and a tunnel with bytes moving in either direction is not.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "hooks/proxy/egress_proxy.hpp"
#include "loopback_proxy_fixture.hpp"

namespace tether::hooks {
namespace {

using namespace testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Reads and discards until EOF: an upstream that never answers.
void silent_session(UniqueFd fd) {
    char buf[4096];
    while (recv(fd.get(), buf, sizeof buf, 0) > 0) {
    }
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

class ProxyTimeoutsTest : public LoopbackProxyFixture {
protected:
    // Every name resolves to 127.0.0.1, where the tests' servers listen.
    void start_proxy(ProxyTimeouts timeouts) {
        ProxyConfig config;
        config.allowed_domains = {"*.allowed.test"};
        config.timeouts = timeouts;
        resolve_every_name_to("127.0.0.1");
        make_proxy(std::move(config));
        proxy_->add_listener(listen_loopback(proxy_port_));
        loop_.start();
    }

    // A proxy without timeouts fails the test, never hangs it.
    UniqueFd connect_proxy() { return connect_loopback(proxy_port_, 20); }

    // A CONNECT tunnel through the proxy to a server on 127.0.0.1.
    UniqueFd open_tunnel(uint16_t server_port) {
        UniqueFd client = connect_proxy();
        EXPECT_TRUE(send_all(client.get(), "CONNECT api.allowed.test:" + std::to_string(server_port) + " HTTP/1.1\r\n\r\n"));
        std::string established = "HTTP/1.1 200 Connection established\r\n\r\n";
        EXPECT_EQ(read_exactly(client.get(), established.size()), established);
        return client;
    }

    // True while the proxy has not closed the connection: nothing to read and no EOF.
    static bool still_open(int fd) {
        char c;
        ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);
        return n < 0 && errno == EAGAIN;
    }

    uint16_t proxy_port_ = 0;
};

TEST_F(ProxyTimeoutsTest, HalfARequestHeadIsAnswered408AndClosedAfterTheHeadTimeout) {
    start_proxy({.request_head = 500ms, .idle = 60s});
    UniqueFd client = connect_proxy();
    auto start = Clock::now();
    ASSERT_TRUE(send_all(client.get(), "CONNECT api.allowed.test:443 HTTP/1.1\r\nHost: api.al"));
    int error = -1;
    std::string response = read_to_eof(client.get(), &error);
    double waited = seconds_since(start);
    EXPECT_EQ(error, 0) << strerror(error);  // EOF, not our 20 s receive timeout
    EXPECT_EQ(response.rfind("HTTP/1.1 408 Request Timeout\r\n", 0), 0u) << response;
    EXPECT_GE(waited, 0.45);
    EXPECT_LT(waited, 5.0);
    EXPECT_TRUE(decisions().empty());  // no request was made
}

// An idle proxy stops its tick (no wake-ups without connections); the first
// connection after an idle spell must start it again, or nothing would ever
// time out.
TEST_F(ProxyTimeoutsTest, AfterAnIdleSpellTheHeadTimeoutStillFires) {
    start_proxy({.request_head = 300ms, .idle = 60s});  // ticks every 30 ms
    std::this_thread::sleep_for(200ms);                 // several ticks with nothing to watch
    UniqueFd client = connect_proxy();
    auto start = Clock::now();
    ASSERT_TRUE(send_all(client.get(), "GET http://a.allowed.test/ HT"));
    int error = -1;
    std::string response = read_to_eof(client.get(), &error);
    EXPECT_EQ(error, 0) << strerror(error);
    EXPECT_EQ(response.rfind("HTTP/1.1 408 Request Timeout\r\n", 0), 0u) << response;
    EXPECT_LT(seconds_since(start), 5.0);
}

TEST_F(ProxyTimeoutsTest, TricklingTheHeadByteByByteDoesNotRestartTheClock) {
    start_proxy({.request_head = 500ms, .idle = 60s});
    UniqueFd client = connect_proxy();
    auto start = Clock::now();
    const std::string head = "GET http://api.allowed.test/ HTTP/1.1\r\nHost: api.allowed.test\r\nX-Pad: ";
    bool closed = false;
    for (size_t i = 0; seconds_since(start) < 5.0; ++i) {
        if (!send_all(client.get(), std::string(1, i < head.size() ? head[i] : 'a'))) {
            closed = true;
            break;
        }
        if (!still_open(client.get())) {
            closed = true;
            break;
        }
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_TRUE(closed) << "a client sending a byte every 50 ms kept its connection for 5 s";
    EXPECT_LT(seconds_since(start), 3.0);
}

TEST_F(ProxyTimeoutsTest, AConnectionThatSendsNothingIsClosedAfterTheHeadTimeout) {
    start_proxy({.request_head = 500ms, .idle = 60s});
    UniqueFd client = connect_proxy();
    auto start = Clock::now();
    int error = -1;
    std::string response = read_to_eof(client.get(), &error);
    EXPECT_EQ(error, 0) << strerror(error);
    EXPECT_EQ(response, "");  // nothing was asked, nothing is answered
    EXPECT_LT(seconds_since(start), 5.0);
}

TEST_F(ProxyTimeoutsTest, AnIdleConnectTunnelIsClosedAfterTheIdleTimeout) {
    HostServer server(echo_session);
    start_proxy({.request_head = 60s, .idle = 700ms});
    UniqueFd client = open_tunnel(server.port());
    ASSERT_TRUE(send_all(client.get(), "ping"));
    ASSERT_EQ(read_exactly(client.get(), 4), "ping");
    auto start = Clock::now();
    int error = -1;
    std::string rest = read_to_eof(client.get(), &error);
    double waited = seconds_since(start);
    EXPECT_EQ(error, 0) << strerror(error);
    EXPECT_EQ(rest, "");
    EXPECT_GE(waited, 0.6);
    EXPECT_LT(waited, 5.0);
    client.reset();
    loop_.stop();
    auto logged = decisions();
    ASSERT_EQ(logged.size(), 1u);
    EXPECT_EQ(logged[0].protocol, "connect");
    EXPECT_EQ(logged[0].error, "idle timeout");
    EXPECT_EQ(logged[0].bytes_up, 4u);
    EXPECT_EQ(logged[0].bytes_down, 4u);
}

TEST_F(ProxyTimeoutsTest, ABusyTunnelOutlivesTheIdleTimeout) {
    HostServer server(echo_session);
    start_proxy({.request_head = 60s, .idle = 500ms});
    UniqueFd client = open_tunnel(server.port());
    // Four idle timeouts long, a byte each way every 100 ms.
    auto start = Clock::now();
    size_t rounds = 0;
    while (seconds_since(start) < 2.0) {
        ASSERT_TRUE(send_all(client.get(), "x")) << "after " << rounds << " rounds";
        ASSERT_EQ(read_exactly(client.get(), 1), "x") << "after " << rounds << " rounds";
        ++rounds;
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_TRUE(still_open(client.get()));
    EXPECT_TRUE(decisions().empty());  // the tunnel has not ended
}

TEST_F(ProxyTimeoutsTest, AnUploadOnlyTunnelIsBusyToo) {
    // Bytes in one direction are progress: a long upload to a server that
    // answers only at the end must not be cut.
    HostServer server(silent_session);
    start_proxy({.request_head = 60s, .idle = 500ms});
    UniqueFd client = open_tunnel(server.port());
    auto start = Clock::now();
    while (seconds_since(start) < 2.0) {
        ASSERT_TRUE(send_all(client.get(), "chunk"));
        std::this_thread::sleep_for(100ms);
        ASSERT_TRUE(still_open(client.get())) << "closed after " << seconds_since(start) << " s";
    }
}

TEST_F(ProxyTimeoutsTest, AnUpstreamThatNeverAnswersGets504AfterTheIdleTimeout) {
    HostServer server(silent_session);
    start_proxy({.request_head = 60s, .idle = 500ms});
    UniqueFd client = connect_proxy();
    auto start = Clock::now();
    ASSERT_TRUE(send_all(client.get(), "GET http://slow.allowed.test:" + std::to_string(server.port()) +
                                           "/ HTTP/1.1\r\nHost: slow.allowed.test\r\n\r\n"));
    int error = -1;
    std::string response = read_to_eof(client.get(), &error);
    EXPECT_EQ(error, 0) << strerror(error);
    EXPECT_EQ(response.rfind("HTTP/1.1 504 Gateway Timeout\r\n", 0), 0u) << response;
    EXPECT_LT(seconds_since(start), 5.0);
    loop_.stop();
    auto logged = decisions();
    ASSERT_EQ(logged.size(), 1u);
    EXPECT_EQ(logged[0].error, "idle timeout");
}

}  // namespace
}  // namespace tether::hooks
