// The transparent listener on real loopback sockets: the kernel's record of
// the original destination is stood in for by the test (the lookup), names
// come from a stub resolver, and upstreams are test servers on 127.0.0.1
// (allowPrivateUpstreams 127.0.0.0/8). The redirect itself is tested in
// socket_bpf_live_test.cpp and tests/integration/sandbox_transparent.bats.
#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <optional>

#include "hooks/proxy/egress_proxy.hpp"
#include "hooks/proxy/transparent_proxy.hpp"
#include "loopback_proxy_fixture.hpp"
#include "tests/unit/hooks/tls_hello_support.hpp"

namespace tether::hooks {
namespace {

using namespace testing;

class TransparentProxyTest : public LoopbackProxyFixture {
protected:
    void TearDown() override {
        loop_.stop();
        transparent_.reset();
        proxy_.reset();
    }

    void start(ProxyConfig config) {
        config.timeouts.request_head = std::chrono::milliseconds(300);
        make_proxy(std::move(config));
        transparent_ = std::make_unique<TransparentProxy>(loop_.loop(), *proxy_, [this](const SocketAddress&) {
            std::lock_guard lock(mutex_);
            return original_;
        });
        transparent_->add_listener(listen_loopback(port_));
        loop_.start();
    }

    void set_original(std::optional<SocketAddress> original) {
        std::lock_guard lock(mutex_);
        original_ = std::move(original);
    }

    UniqueFd connect_listener() { return connect_loopback(port_, 10); }

    ProxyDecision last_decision() {
        for (int i = 0; i < 200; ++i) {
            {
                std::lock_guard lock(mutex_);
                if (!decisions_.empty()) return decisions_.back();
            }
            usleep(10000);
        }
        return {};
    }

    std::unique_ptr<TransparentProxy> transparent_;
    uint16_t port_ = 0;
    std::optional<SocketAddress> original_;
};

ProxyConfig domains(std::vector<std::string> allowed) {
    ProxyConfig config;
    config.allowed_domains = std::move(allowed);
    return config;
}

TEST_F(TransparentProxyTest, AllowedSniAtItsOwnAddressIsRelayedWithTheHelloFirst) {
    HostServer server(echo_session);
    add_host("api.allowed.test", "127.0.0.1");
    set_original(loopback_v4(server.port()));
    start(domains({"*.allowed.test"}));
    UniqueFd client = connect_listener();
    std::string hello = client_hello("api.allowed.test");
    ASSERT_TRUE(send_all(client.get(), hello + "after"));
    EXPECT_EQ(read_exactly(client.get(), hello.size() + 5), hello + "after");
    shutdown(client.get(), SHUT_WR);
    EXPECT_EQ(read_to_eof(client.get()), "");
    client.reset();
    auto decision = last_decision();  // a tunnel's line comes when it ends
    EXPECT_EQ(decision.protocol, "transparent-tls");
    EXPECT_EQ(decision.host, "api.allowed.test");
    EXPECT_EQ(decision.address, "127.0.0.1:" + std::to_string(server.port()));
    EXPECT_TRUE(decision.allowed);
    EXPECT_EQ(decision.rule, "allowedDomains:*.allowed.test");
    EXPECT_EQ(decision.bytes_up, hello.size() + 5);
}

TEST_F(TransparentProxyTest, FrontingIsResetAndNothingIsDialled) {
    HostServer server(echo_session);
    add_host("api.allowed.test", "127.0.0.2");  // the name lives elsewhere
    set_original(loopback_v4(server.port()));
    start(domains({"*.allowed.test"}));
    UniqueFd client = connect_listener();
    ASSERT_TRUE(send_all(client.get(), client_hello("api.allowed.test")));
    int error = 0;
    EXPECT_EQ(read_to_eof(client.get(), &error), "");
    EXPECT_EQ(error, ECONNRESET);
    auto decision = last_decision();
    EXPECT_FALSE(decision.allowed);
    EXPECT_EQ(decision.rule, "name-not-at-destination:127.0.0.1");
    EXPECT_EQ(dials_.load(), 0);
    EXPECT_EQ(server.accepted(), 0);
}

TEST_F(TransparentProxyTest, HttpHostOutsideTheListGets403NamingTheRule) {
    HostServer server(echo_session);
    add_host("other.test", "127.0.0.1");
    set_original(loopback_v4(server.port()));
    start(domains({"allowed.test"}));
    UniqueFd client = connect_listener();
    ASSERT_TRUE(send_all(client.get(), "GET / HTTP/1.1\r\nHost: other.test\r\n\r\n"));
    std::string reply = read_to_eof(client.get());
    EXPECT_NE(reply.find("HTTP/1.1 403 Forbidden"), std::string::npos) << reply;
    EXPECT_NE(reply.find("other.test denied by rule not-in-allowedDomains"), std::string::npos) << reply;
    EXPECT_EQ(last_decision().protocol, "transparent-http");
    EXPECT_EQ(dials_.load(), 0);
}

TEST_F(TransparentProxyTest, NoOriginalDestinationNoSniSilenceAreAllRefused) {
    HostServer server(echo_session);
    start(domains({"allowed.test"}));
    // A connect straight to the listener: the kernel filed nothing.
    {
        UniqueFd client = connect_listener();
        EXPECT_EQ(read_to_eof(client.get()), "");
        EXPECT_EQ(last_decision().rule, "transparent:no-original-destination");
    }
    set_original(loopback_v4(server.port()));
    {
        UniqueFd client = connect_listener();
        ASSERT_TRUE(send_all(client.get(), client_hello("")));
        EXPECT_EQ(read_to_eof(client.get()), "");
        EXPECT_EQ(last_decision().rule, "transparent:no-sni");
    }
    {
        // Nothing within the head timeout (300 ms here).
        UniqueFd client = connect_listener();
        auto started = std::chrono::steady_clock::now();
        EXPECT_EQ(read_to_eof(client.get()), "");
        EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
        EXPECT_EQ(last_decision().rule, "transparent:no-name");
    }
    {
        UniqueFd client = connect_listener();
        ASSERT_TRUE(send_all(client.get(), "SSH-2.0-client\r\n"));
        EXPECT_EQ(read_to_eof(client.get()), "");
        EXPECT_EQ(last_decision().rule, "transparent:not-tls-or-http");
    }
    EXPECT_EQ(dials_.load(), 0);
}

TEST_F(TransparentProxyTest, AllowedHostsConnectWithoutWaitingForTheClient) {
    // The server speaks first, as sshd and most databases do.
    HostServer server([](UniqueFd fd) {
        send_all(fd.get(), "SSH-2.0-server\r\n");
        echo_session(std::move(fd));
    });
    add_host("git.test", "127.0.0.1");
    set_original(loopback_v4(server.port()));
    ProxyConfig config;
    config.allowed_hosts = {{"git.test", server.port()}};
    start(config);
    UniqueFd client = connect_listener();
    EXPECT_EQ(read_exactly(client.get(), 16), "SSH-2.0-server\r\n");
    shutdown(client.get(), SHUT_WR);
    read_to_eof(client.get());
    client.reset();
    auto decision = last_decision();  // a tunnel's line comes when it ends
    EXPECT_TRUE(decision.allowed);
    EXPECT_EQ(decision.protocol, "transparent-tcp");
    EXPECT_EQ(decision.rule, "allowedHosts:git.test:" + std::to_string(server.port()));
}

}  // namespace
}  // namespace tether::hooks
