// The egress proxy on real loopback sockets: names come from a stub resolver
// pointing at test servers on 127.0.0.1 (allowed through allowPrivateUpstreams
// 127.0.0.0/8, as the e2e tests do with a private /etc/hosts); the fixture is
// loopback_proxy_fixture.hpp.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "hooks/proxy/egress_proxy.hpp"
#include "loopback_proxy_fixture.hpp"
#include "hooks/proxy/socks5.hpp"

namespace tether::hooks {
namespace {

using namespace testing;

ProxyConfig rules(std::vector<std::string> allowed, std::vector<std::string> denied = {}) {
    ProxyConfig config;
    config.allowed_domains = std::move(allowed);
    config.denied_domains = std::move(denied);
    return config;
}

class EgressProxyTest : public LoopbackProxyFixture {
protected:
    // Starts the proxy on 127.0.0.1:<ephemeral>.
    void start_proxy(ProxyConfig config) {
        make_proxy(std::move(config));
        proxy_->add_listener(listen_loopback(proxy_port_));
        loop_.start();
    }

    UniqueFd connect_proxy() { return connect_loopback(proxy_port_, 30); }

    // Reads one response head plus a Content-Length body.
    static std::string read_http_response(int fd) {
        std::string data;
        char c;
        while (data.find("\r\n\r\n") == std::string::npos && recv(fd, &c, 1, 0) == 1) data += c;
        size_t pos = data.find("Content-Length: ");
        if (pos == std::string::npos) return data;
        size_t length = std::stoul(data.substr(pos + 16));
        return data + read_exactly(fd, length);
    }

    uint16_t proxy_port_ = 0;
};

TEST_F(EgressProxyTest, ConnectToAllowedNameRelaysBytes) {
    HostServer server(echo_session);
    add_host("api.allowed.test", "127.0.0.1");
    start_proxy(rules({"*.allowed.test"}));
    UniqueFd client = connect_proxy();
    std::string port = std::to_string(server.port());
    ASSERT_TRUE(send_all(client.get(), "CONNECT API.Allowed.Test.:" + port + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::string reply = read_exactly(client.get(), std::strlen("HTTP/1.1 200 Connection established\r\n\r\n"));
    EXPECT_EQ(reply, "HTTP/1.1 200 Connection established\r\n\r\n");
    const std::string payload = pseudo_random_bytes(1 << 20, 7);
    std::thread sender([&] {
        send_all(client.get(), payload);
        shutdown(client.get(), SHUT_WR);
    });
    std::string echoed = read_to_eof(client.get());
    sender.join();
    EXPECT_TRUE(echoed == payload) << echoed.size();
    client.reset();
    // The tunnel's decision is logged when it ends, with its byte counts.
    loop_.stop();
    auto logged = decisions();
    ASSERT_EQ(logged.size(), 1u);
    EXPECT_TRUE(logged[0].allowed);
    EXPECT_EQ(logged[0].protocol, "connect");
    EXPECT_EQ(logged[0].host, "api.allowed.test");
    EXPECT_EQ(logged[0].address, "127.0.0.1:" + port);
    EXPECT_EQ(logged[0].rule, "allowedDomains:*.allowed.test");
    EXPECT_EQ(logged[0].bytes_up, payload.size());
    EXPECT_EQ(logged[0].bytes_down, payload.size());
}

TEST_F(EgressProxyTest, DeniedNameGets403NamingTheRule) {
    add_host("ads.allowed.test", "127.0.0.1");
    start_proxy(rules({"*.allowed.test"}, {"ads.allowed.test"}));
    UniqueFd client = connect_proxy();
    ASSERT_TRUE(send_all(client.get(), "CONNECT ads.allowed.test:443 HTTP/1.1\r\n\r\n"));
    std::string response = read_to_eof(client.get());
    EXPECT_EQ(response.rfind("HTTP/1.1 403 Forbidden\r\n", 0), 0u) << response;
    EXPECT_NE(response.find("ads.allowed.test denied by rule deniedDomains:ads.allowed.test"), std::string::npos)
        << response;
    EXPECT_NE(response.find("run.tether.network.deniedDomains"), std::string::npos) << response;
    EXPECT_EQ(resolutions_.load(), 0);  // denied before any lookup
    EXPECT_EQ(dials_.load(), 0);
}

TEST_F(EgressProxyTest, NameOutsideTheListGets403WithTheAnnotationToAllowIt) {
    HostServer server(echo_session);
    add_host("other.test", "127.0.0.1");
    start_proxy(rules({"*.allowed.test"}));
    UniqueFd client = connect_proxy();
    ASSERT_TRUE(send_all(client.get(),
                         "GET http://other.test:" + std::to_string(server.port()) + "/ HTTP/1.1\r\nHost: other.test\r\n\r\n"));
    std::string response = read_to_eof(client.get());
    EXPECT_EQ(response.rfind("HTTP/1.1 403 Forbidden\r\n", 0), 0u) << response;
    EXPECT_NE(response.find("other.test denied by rule not-in-allowedDomains"), std::string::npos) << response;
    EXPECT_NE(response.find("run.tether.network.allowedDomains"), std::string::npos) << response;
    EXPECT_EQ(server.accepted(), 0);
    auto logged = decisions();
    ASSERT_EQ(logged.size(), 1u);
    EXPECT_FALSE(logged[0].allowed);
    EXPECT_EQ(logged[0].protocol, "http");
}

TEST_F(EgressProxyTest, DeniedRequestWithALargeBodyStillGetsThe403) {
    // Closing with the body unread would send RST and could destroy the 403 in flight.
    start_proxy(rules({"*.allowed.test"}));
    UniqueFd client = connect_proxy();
    const std::string body = pseudo_random_bytes(256 << 10, 9);
    std::thread sender([&] {
        send_all(client.get(), "POST http://elsewhere.test/ HTTP/1.1\r\nContent-Length: " +
                                   std::to_string(body.size()) + "\r\n\r\n" + body);
        shutdown(client.get(), SHUT_WR);
    });
    int error = -1;
    std::string response = read_to_eof(client.get(), &error);
    sender.join();
    EXPECT_EQ(error, 0) << strerror(error);
    EXPECT_EQ(response.rfind("HTTP/1.1 403 Forbidden\r\n", 0), 0u) << response;
    EXPECT_NE(response.find("elsewhere.test denied by rule not-in-allowedDomains"), std::string::npos) << response;
}

TEST_F(EgressProxyTest, NameResolvingToMetadataAddressIsRefusedWithoutAnyConnect) {
    add_host("metadata.allowed.test", "169.254.169.254");
    start_proxy(rules({"*.allowed.test"}));
    UniqueFd client = connect_proxy();
    ASSERT_TRUE(send_all(client.get(), "CONNECT metadata.allowed.test:80 HTTP/1.1\r\n\r\n"));
    std::string response = read_to_eof(client.get());
    EXPECT_EQ(response.rfind("HTTP/1.1 403 Forbidden\r\n", 0), 0u) << response;
    EXPECT_NE(response.find("private-address:link-local:169.254.169.254"), std::string::npos) << response;
    EXPECT_NE(response.find("run.tether.network.allowPrivateUpstreams"), std::string::npos) << response;
    EXPECT_EQ(resolutions_.load(), 1);
    EXPECT_EQ(dials_.load(), 0);  // the only proof that matters: no packet could have left
}

TEST_F(EgressProxyTest, IpLiteralNotListedIsRefused) {
    HostServer server(echo_session);
    start_proxy(rules({"*.allowed.test"}));
    UniqueFd client = connect_proxy();
    ASSERT_TRUE(send_all(client.get(), "CONNECT 127.0.0.1:" + std::to_string(server.port()) + " HTTP/1.1\r\n\r\n"));
    std::string response = read_to_eof(client.get());
    EXPECT_NE(response.find("ip-literal-not-listed"), std::string::npos) << response;
    EXPECT_EQ(dials_.load(), 0);
}

// An origin server that answers each request with its request line and Host.
void http_origin_session(UniqueFd fd) {
    std::string buffer;
    char chunk[4096];
    for (;;) {
        size_t end;
        while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
            ssize_t n = recv(fd.get(), chunk, sizeof chunk, 0);
            if (n <= 0) return;
            buffer.append(chunk, static_cast<size_t>(n));
        }
        std::string head = buffer.substr(0, end + 4);
        buffer.erase(0, end + 4);
        std::string body = head.substr(0, head.find("\r\n"));
        if (head.find("Proxy-") != std::string::npos) body += " [proxy header leaked]";
        size_t host = head.find("Host: ");
        if (host != std::string::npos) body += " host=" + head.substr(host + 6, head.find("\r\n", host) - host - 6);
        std::string response = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
        if (!send_all(fd.get(), response)) return;
    }
}

TEST_F(EgressProxyTest, AbsoluteFormRequestsShareOneKeepAliveConnection) {
    HostServer origin(http_origin_session);
    add_host("web.allowed.test", "127.0.0.1");
    start_proxy(rules({"*.allowed.test"}));
    UniqueFd client = connect_proxy();
    std::string authority = "web.allowed.test:" + std::to_string(origin.port());
    ASSERT_TRUE(send_all(client.get(), "GET http://" + authority + "/first HTTP/1.1\r\nHost: " + authority +
                                           "\r\nProxy-Authorization: Basic eA==\r\n\r\n"));
    std::string first = read_http_response(client.get());
    EXPECT_NE(first.find("\r\n\r\nGET /first HTTP/1.1 host=" + authority), std::string::npos) << first;
    ASSERT_TRUE(send_all(client.get(), "GET http://" + authority + "/second?x=1 HTTP/1.1\r\nHost: " + authority + "\r\n\r\n"));
    std::string second = read_http_response(client.get());
    EXPECT_NE(second.find("\r\n\r\nGET /second?x=1 HTTP/1.1 host=" + authority), std::string::npos) << second;
    EXPECT_EQ(origin.accepted(), 1);  // both requests over one upstream connection
    auto logged = decisions();
    ASSERT_EQ(logged.size(), 2u);
    for (const auto& decision : logged) {
        EXPECT_TRUE(decision.allowed);
        EXPECT_EQ(decision.protocol, "http");
        EXPECT_GT(decision.bytes_down, 0u);
    }
}

// The upstream of a keep-alive connection is reused only for the same
// host:port, and even then the name is checked again: a second request on
// the same client connection is decided on its own.
TEST_F(EgressProxyTest, EveryKeepAliveRequestIsCheckedAgainstTheRules) {
    HostServer origin(http_origin_session);
    add_host("web.allowed.test", "127.0.0.1");
    add_host("evil.test", "127.0.0.1");
    start_proxy(rules({"web.allowed.test"}));
    UniqueFd client = connect_proxy();
    std::string port = std::to_string(origin.port());
    ASSERT_TRUE(send_all(client.get(), "GET http://web.allowed.test:" + port + "/ok HTTP/1.1\r\n\r\n"));
    std::string first = read_http_response(client.get());
    EXPECT_EQ(first.rfind("HTTP/1.1 200", 0), 0u) << first;
    ASSERT_TRUE(send_all(client.get(), "GET http://evil.test:" + port + "/steal HTTP/1.1\r\n\r\n"));
    std::string second = read_http_response(client.get());
    EXPECT_EQ(second.rfind("HTTP/1.1 403", 0), 0u) << second;
    EXPECT_EQ(origin.accepted(), 1);
    auto logged = decisions();
    ASSERT_EQ(logged.size(), 2u);
    EXPECT_TRUE(logged[0].allowed);
    EXPECT_FALSE(logged[1].allowed);
    EXPECT_EQ(logged[1].host, "evil.test");
}

// An origin may close a keep-alive connection while it is idle (its own
// timeout). The proxy notices and dials again for the next request instead
// of sending it into the closed connection (which answered 502).
TEST_F(EgressProxyTest, AnIdleKeepAliveUpstreamThatClosesIsDialledAgain) {
    std::atomic<int> closed{0};
    HostServer origin([&](UniqueFd fd) {
        std::string data;
        char chunk[4096];
        while (data.find("\r\n\r\n") == std::string::npos) {
            ssize_t n = recv(fd.get(), chunk, sizeof chunk, 0);
            if (n <= 0) return;
            data.append(chunk, static_cast<size_t>(n));
        }
        send_all(fd.get(), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        // Then, a while later, closes without having said Connection: close,
        // as an idle timeout does.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        fd.reset();
        ++closed;
    });
    add_host("web.allowed.test", "127.0.0.1");
    start_proxy(rules({"web.allowed.test"}));
    UniqueFd client = connect_proxy();
    std::string request = "GET http://web.allowed.test:" + std::to_string(origin.port()) + "/ HTTP/1.1\r\n\r\n";
    ASSERT_TRUE(send_all(client.get(), request));
    std::string first = read_http_response(client.get());
    EXPECT_EQ(first.rfind("HTTP/1.1 200", 0), 0u) << first;
    for (int i = 0; i < 500 && closed.load() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_EQ(closed.load(), 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the origin's FIN reaches the proxy's loop
    ASSERT_TRUE(send_all(client.get(), request));
    std::string second = read_http_response(client.get());
    EXPECT_EQ(second.rfind("HTTP/1.1 200", 0), 0u) << second;
    EXPECT_EQ(origin.accepted(), 2);
}

TEST_F(EgressProxyTest, PostBodyIsForwardedAndTheResponseFollows) {
    std::promise<std::string> received;
    HostServer origin([&](UniqueFd fd) {
        std::string data;
        char chunk[4096];
        while (data.find("\r\n\r\nhello") == std::string::npos) {
            ssize_t n = recv(fd.get(), chunk, sizeof chunk, 0);
            if (n <= 0) break;
            data.append(chunk, static_cast<size_t>(n));
        }
        received.set_value(data);
        send_all(fd.get(), "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
    });
    add_host("web.allowed.test", "127.0.0.1");
    start_proxy(rules({"web.allowed.test"}));
    UniqueFd client = connect_proxy();
    ASSERT_TRUE(send_all(client.get(), "POST http://web.allowed.test:" + std::to_string(origin.port()) +
                                           "/upload HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"));
    std::string response = read_http_response(client.get());
    EXPECT_EQ(response.rfind("HTTP/1.1 201 Created", 0), 0u) << response;
    EXPECT_EQ(response.substr(response.size() - 2), "ok");
    EXPECT_NE(received.get_future().get().find("POST /upload HTTP/1.1"), std::string::npos);
}

std::string socks_connect_by_name(const std::string& name, uint16_t port) {
    std::string request = std::string("\x05\x01\x00\x03", 4) + static_cast<char>(name.size()) + name;
    request += static_cast<char>(port >> 8);
    request += static_cast<char>(port & 0xff);
    return request;
}

TEST_F(EgressProxyTest, Socks5WithAllowedNameRelays) {
    HostServer server(echo_session);
    add_host("db.allowed.test", "127.0.0.1");
    start_proxy(rules({"*.allowed.test"}));
    UniqueFd client = connect_proxy();
    ASSERT_TRUE(send_all(client.get(), std::string("\x05\x01\x00", 3)));
    EXPECT_EQ(read_exactly(client.get(), 2), std::string("\x05\x00", 2));
    ASSERT_TRUE(send_all(client.get(), socks_connect_by_name("db.allowed.test", server.port())));
    std::string reply = read_exactly(client.get(), 10);
    ASSERT_EQ(reply.size(), 10u);
    EXPECT_EQ(reply[1], socks5::succeeded);
    ASSERT_TRUE(send_all(client.get(), "ping"));
    shutdown(client.get(), SHUT_WR);
    EXPECT_EQ(read_to_eof(client.get()), "ping");
}

TEST_F(EgressProxyTest, Socks5WithDeniedNameGetsRulesetRefusal) {
    add_host("evil.test", "127.0.0.1");
    start_proxy(rules({"*.allowed.test"}));
    UniqueFd client = connect_proxy();
    ASSERT_TRUE(send_all(client.get(), std::string("\x05\x01\x00", 3)));
    EXPECT_EQ(read_exactly(client.get(), 2), std::string("\x05\x00", 2));
    ASSERT_TRUE(send_all(client.get(), socks_connect_by_name("evil.test", 443)));
    std::string reply = read_to_eof(client.get());
    ASSERT_EQ(reply.size(), 10u);
    EXPECT_EQ(reply[1], socks5::not_allowed_by_ruleset);
    EXPECT_EQ(dials_.load(), 0);
    auto logged = decisions();
    ASSERT_EQ(logged.size(), 1u);
    EXPECT_EQ(logged[0].protocol, "socks5");
    EXPECT_EQ(logged[0].rule, "not-in-allowedDomains");
}

TEST_F(EgressProxyTest, RefusedUpstreamGets502) {
    uint16_t port = unused_host_port();
    add_host("down.allowed.test", "127.0.0.1");
    start_proxy(rules({"*.allowed.test"}));
    UniqueFd client = connect_proxy();
    ASSERT_TRUE(send_all(client.get(), "CONNECT down.allowed.test:" + std::to_string(port) + " HTTP/1.1\r\n\r\n"));
    std::string response = read_to_eof(client.get());
    EXPECT_EQ(response.rfind("HTTP/1.1 502 Bad Gateway\r\n", 0), 0u) << response;
    EXPECT_NE(response.find("Connection refused"), std::string::npos) << response;
}

}  // namespace
}  // namespace tether::hooks
