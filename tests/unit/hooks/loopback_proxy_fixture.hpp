// The fixture the live proxy tests share (proxy_egress, proxy_timeouts,
// proxy_transparent_live): an EgressProxy on the daemon's EventLoop whose
// name lookups come from a stub table of test hosts, whose dials never leave
// 127.0.0.0/8, and whose decisions are kept for the test to read.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bridge_test_support.hpp"
#include "hooks/proxy/egress_proxy.hpp"

namespace tether::hooks::testing {

class LoopbackProxyFixture : public ::testing::Test {
protected:
    void TearDown() override {
        loop_.stop();
        proxy_.reset();
    }

    // Builds proxy_ from config with the stub resolver, the loopback-only
    // dialer and the decision log; upstreams on 127.0.0.0/8 are allowed, as
    // the e2e tests allow them with a private /etc/hosts.
    void make_proxy(ProxyConfig config) {
        config.allow_private_upstreams = {"127.0.0.0/8"};
        config.resolve = [this](const std::string& name, uint16_t port) {
            ++resolutions_;
            std::vector<SocketAddress> result;
            std::lock_guard lock(mutex_);
            auto it = hosts_.find(name);
            const std::string& ip = it != hosts_.end() ? it->second : every_name_ip_;
            if (!ip.empty()) result.push_back(*SocketAddress::parse_ip(ip, port));
            return result;
        };
        config.dial = [this](const SocketAddress& address) {
            ++dials_;
            // Even a faulty proxy must not send a packet off this host from a unit test.
            if (classify_address(address) != AddressClass::loopback) return ConnectAttempt{UniqueFd(), ENETUNREACH};
            return start_connect(address);
        };
        config.on_decision = [this](const ProxyDecision& decision) {
            std::lock_guard lock(mutex_);
            decisions_.push_back(decision);
        };
        proxy_ = std::make_unique<EgressProxy>(loop_.loop(), std::move(config));
    }

    // A listener on 127.0.0.1:<ephemeral>; its port goes to `port`.
    static UniqueFd listen_loopback(uint16_t& port) {
        UniqueFd listener = listen_tcp(loopback_v4(0));
        port = local_port(listener.get());
        return listener;
    }

    // A blocking client connected to 127.0.0.1:port, which gives up reading
    // after `timeout_seconds` (a hung proxy fails the test, never hangs it).
    static UniqueFd connect_loopback(uint16_t port, int timeout_seconds) {
        UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        set_receive_timeout(fd.get(), timeout_seconds);
        EXPECT_TRUE(connect_to(fd.get(), loopback_v4(port)));
        return fd;
    }

    void add_host(const std::string& name, const std::string& ip) {
        std::lock_guard lock(mutex_);
        hosts_[name] = ip;
    }
    // Names not added with add_host resolve to `ip` (by default they do not resolve).
    void resolve_every_name_to(const std::string& ip) {
        std::lock_guard lock(mutex_);
        every_name_ip_ = ip;
    }

    std::vector<ProxyDecision> decisions() {
        std::lock_guard lock(mutex_);
        return decisions_;
    }

    LoopThread loop_;
    std::unique_ptr<EgressProxy> proxy_;
    std::mutex mutex_;
    std::map<std::string, std::string> hosts_;
    std::string every_name_ip_;
    std::vector<ProxyDecision> decisions_;
    std::atomic<int> resolutions_{0};
    std::atomic<int> dials_{0};
};

}  // namespace tether::hooks::testing
