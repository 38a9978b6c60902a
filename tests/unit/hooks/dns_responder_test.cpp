// The container's DNS responder (hooks/dns/dns_responder.hpp), served on a
// UDP socket on the host's loopback with a fake host-side resolver: which
// names get addresses, which get NXDOMAIN or REFUSED, the rate limit, and
// the decision of each answer.
#include "hooks/dns/dns_responder.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hooks/dns/token_bucket.hpp"
#include "hooks/net/event_loop.hpp"
#include "hooks/net/socket_util.hpp"
#include "hooks/proxy/egress_proxy.hpp"
#include "runtime/core/error.hpp"
#include "tests/unit/hooks/dns_query_support.hpp"

namespace tether::hooks::dns {
namespace {

struct Reply {
    int rcode = -1;
    int answers = 0;
    std::vector<std::string> addresses;  // A records as dotted quads
};

class DnsResponderTest : public ::testing::Test {
protected:
    void start(DnsLimits limits = {}) {
        ProxyConfig config;
        config.allowed_domains = {"*.allowed.test"};
        config.allowed_hosts = {{"git.hosts.test", 22}};
        config.denied_domains = {"bad.allowed.test"};
        config.allow_private_upstreams = {"192.0.2.0/24", "2001:db8::/32"};
        config.resolve = [this](const std::string& name, uint16_t port) {
            resolved_.push_back(name);
            if (name == "gone.allowed.test") return std::vector<SocketAddress>{};
            return std::vector<SocketAddress>{*SocketAddress::parse_ip("192.0.2.10", port),
                                              *SocketAddress::parse_ip("10.1.2.3", port),
                                              *SocketAddress::parse_ip("2001:db8::1", port)};
        };
        config.resolver_threads = 1;
        proxy_ = std::make_unique<EgressProxy>(loop_, std::move(config));
        responder_ = std::make_unique<DnsResponder>(
            loop_, proxy_->context(),
            [this](const DnsDecision& d) {
                std::lock_guard lock(mutex_);
                decisions_.push_back(d);
            },
            limits);
        UniqueFd server(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        SocketAddress any = loopback_v4(0);
        ASSERT_EQ(::bind(server.get(), any.get(), any.length), 0);
        server_ = local_address(server.get());
        responder_->add_socket(std::move(server));
        client_.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        ASSERT_EQ(::connect(client_.get(), server_.get(), server_.length), 0);
        thread_ = std::thread([this] { loop_.run(); });
    }

    void TearDown() override {
        if (thread_.joinable()) {
            loop_.stop();
            thread_.join();
        }
        responder_.reset();
        proxy_.reset();
    }

    Reply ask(uint16_t id, const std::string& name, uint16_t type) {
        std::vector<uint8_t> q = query_bytes(name, type, 0x0100, id);
        EXPECT_EQ(::send(client_.get(), q.data(), q.size(), 0), static_cast<ssize_t>(q.size()));
        return receive(id);
    }

    Reply receive(uint16_t id) {
        Reply reply;
        pollfd p{client_.get(), POLLIN, 0};
        if (::poll(&p, 1, 2000) != 1) return reply;
        uint8_t buffer[1024];
        ssize_t n = ::recv(client_.get(), buffer, sizeof buffer, 0);
        if (n < 12) return reply;
        EXPECT_EQ((buffer[0] << 8 | buffer[1]), id);
        reply.rcode = buffer[3] & 0xf;
        reply.answers = buffer[6] << 8 | buffer[7];
        // The records follow the question (which ends 4 bytes after its 0).
        size_t at = 12;
        while (at < static_cast<size_t>(n) && buffer[at]) at += buffer[at] + 1;
        at += 5;
        for (int i = 0; i < reply.answers && at + 12 <= static_cast<size_t>(n); ++i) {
            uint16_t length = static_cast<uint16_t>(buffer[at + 10] << 8 | buffer[at + 11]);
            if (length == 4)
                reply.addresses.push_back(std::to_string(buffer[at + 12]) + "." + std::to_string(buffer[at + 13]) +
                                          "." + std::to_string(buffer[at + 14]) + "." +
                                          std::to_string(buffer[at + 15]));
            at += 12 + length;
        }
        return reply;
    }

    // The decision is written right after the reply is sent: wait for it.
    std::vector<DnsDecision> decisions(size_t at_least = 0) {
        for (int i = 0; i < 200; ++i) {
            {
                std::lock_guard lock(mutex_);
                if (decisions_.size() >= at_least) return decisions_;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        std::lock_guard lock(mutex_);
        return decisions_;
    }

    EventLoop loop_;
    std::unique_ptr<EgressProxy> proxy_;
    std::unique_ptr<DnsResponder> responder_;
    SocketAddress server_;
    UniqueFd client_;
    std::thread thread_;
    std::mutex mutex_;
    std::vector<DnsDecision> decisions_;
    std::vector<std::string> resolved_;  // only touched on the resolver thread, read after the answers
};

TEST_F(DnsResponderTest, AllowlistedNamesGetTheProxysAddresses) {
    start();
    Reply a = ask(1, "api.allowed.test", kTypeA);
    EXPECT_EQ(a.rcode, 0);
    // 10.1.2.3 is private and outside allowPrivateUpstreams: the proxy
    // would not dial it, so it is not given out.
    EXPECT_EQ(a.addresses, std::vector<std::string>{"192.0.2.10"});
    Reply aaaa = ask(2, "API.allowed.test", kTypeAAAA);
    EXPECT_EQ(aaaa.rcode, 0);
    EXPECT_EQ(aaaa.answers, 1);
    // allowedHosts names resolve too, whatever their port.
    EXPECT_EQ(ask(3, "git.hosts.test", kTypeA).addresses, std::vector<std::string>{"192.0.2.10"});
    // An allowlisted name the host cannot resolve.
    EXPECT_EQ(ask(4, "gone.allowed.test", kTypeA).rcode, 3);

    auto lines = decisions(4);
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_TRUE(lines[0].allowed);
    EXPECT_EQ(lines[0].name, "api.allowed.test");
    EXPECT_EQ(lines[0].type, "A");
    EXPECT_EQ(lines[0].rule, "allowedDomains:*.allowed.test");
    EXPECT_EQ(lines[0].answer, "192.0.2.10");
    EXPECT_EQ(lines[1].answer, "2001:db8::1");
    EXPECT_EQ(lines[2].rule, "allowedHosts:git.hosts.test");
    EXPECT_EQ(lines[3].error, "resolve: no address");
}

TEST_F(DnsResponderTest, OtherNamesGetNxdomainWithoutAnyLookup) {
    start();
    EXPECT_EQ(ask(1, "secret-data.elsewhere.test", kTypeA).rcode, 3);
    EXPECT_EQ(ask(2, "allowed.test", kTypeA).rcode, 3);       // the wildcard covers subdomains only
    EXPECT_EQ(ask(3, "bad.allowed.test", kTypeA).rcode, 3);   // deniedDomains wins
    EXPECT_EQ(ask(4, "192.0.2.10", kTypeA).rcode, 3);         // an IP literal is not a name
    EXPECT_TRUE(resolved_.empty());
    auto lines = decisions(4);
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_FALSE(lines[0].allowed);
    EXPECT_EQ(lines[0].rule, "not-in-allowedDomains");
    EXPECT_EQ(lines[0].annotation, "run.tether.network.allowedDomains");
    EXPECT_EQ(lines[2].rule, "deniedDomains:bad.allowed.test");
    EXPECT_EQ(lines[3].rule, "not-a-host-name");
}

TEST_F(DnsResponderTest, OtherTypesAreRefused) {
    start();
    EXPECT_EQ(ask(1, "api.allowed.test", 16).rcode, 5);   // TXT
    EXPECT_EQ(ask(2, "api.allowed.test", 255).rcode, 5);  // ANY
    EXPECT_EQ(ask(3, "api.allowed.test", 15).rcode, 5);   // MX
    EXPECT_TRUE(resolved_.empty());
    auto lines = decisions(3);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0].rule, "dns-type-refused");
    EXPECT_EQ(lines[0].type, "TXT");
    EXPECT_EQ(lines[1].type, "ANY");
}

TEST_F(DnsResponderTest, AFloodIsRateLimitedAndLoggedOnce) {
    start(DnsLimits{1, 5, 30});
    int refused = 0, answered = 0;
    for (uint16_t i = 0; i < 30; ++i) {
        Reply r = ask(i, "x" + std::to_string(i) + ".elsewhere.test", kTypeA);
        if (r.rcode == 5) ++refused;
        else if (r.rcode == 3) ++answered;
    }
    EXPECT_EQ(answered + refused, 30);
    EXPECT_GE(refused, 20);
    EXPECT_LE(answered, 10);
    int limit_lines = 0;
    for (const auto& d : decisions(6)) limit_lines += d.rule == "dns-rate-limit";
    EXPECT_GE(limit_lines, 1);
    EXPECT_LE(limit_lines, 3);  // one a second, not one a query
    // Going away, the responder counts the refusals it did not log.
    loop_.stop();
    thread_.join();
    responder_.reset();
    auto last = decisions().back();
    EXPECT_EQ(last.rule, "dns-rate-limit");
    EXPECT_NE(last.error.find("rate-limited queries not logged"), std::string::npos) << last.error;
}

TEST(DnsTokenBucket, RefillsAtItsRate) {
    TokenBucket bucket(10, 2);
    auto t = TokenBucket::Clock::time_point{} + std::chrono::seconds(100);
    EXPECT_TRUE(bucket.take(t));
    EXPECT_TRUE(bucket.take(t));
    EXPECT_FALSE(bucket.take(t));
    EXPECT_TRUE(bucket.take(t + std::chrono::milliseconds(100)));
    EXPECT_FALSE(bucket.take(t + std::chrono::milliseconds(100)));
    EXPECT_TRUE(bucket.take(t + std::chrono::seconds(10)));
    EXPECT_TRUE(bucket.take(t + std::chrono::seconds(10)));
    EXPECT_FALSE(bucket.take(t + std::chrono::seconds(10)));  // the burst caps what idle time saves
}

}  // namespace
}  // namespace tether::hooks::dns
