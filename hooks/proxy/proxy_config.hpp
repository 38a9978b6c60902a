// What the egress proxy is told by the daemon (plain values; the policy itself
// is parsed in spec/), and what it reports back for the decision log.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hooks/net/socket_util.hpp"

namespace tether::hooks {

// One line of the decision log per proxied request, allowed or denied.
struct ProxyDecision {
    std::string protocol;  // "connect" | "http" | "socks5"
    std::string host;      // the name (or IP literal) the client asked for, normalized
    uint16_t port = 0;
    std::string address;   // the address dialled ("" when none was)
    bool allowed = false;
    std::string rule;        // "allowedDomains:example.com", "deniedDomains:x", "private-address:loopback", ...
    std::string annotation;  // the annotation that would allow a denied request ("" if none)
    std::string error;       // for allowed requests that failed: "resolve: ...", "connect: Connection refused"
    uint64_t bytes_up = 0;    // client -> upstream
    uint64_t bytes_down = 0;  // upstream -> client
    double duration_ms = 0;
};

// Blocking name resolution on the host side; runs on the proxy's resolver
// threads, never on the event loop. Returns every address (empty: no such name).
using ResolveFunction = std::function<std::vector<SocketAddress>(const std::string& name, uint16_t port)>;
// Starts a non-blocking connect; injectable so tests can prove no connect happens.
using DialFunction = std::function<ConnectAttempt(const SocketAddress& address)>;

// How long a client may hold a connection without getting anywhere. Set by the
// administrator (tether-netd's flags, passed on from tether's), never by the
// container: a tenant who writes annotations is the one these bound.
struct ProxyTimeouts {
    // Slowloris: a client that sends a request head a byte at a time, or
    // nothing at all, holds a connection and its buffers. It has this long
    // from accept, or from the end of the previous response on a keep-alive
    // connection, to send a whole head (HTTP) or greeting and request (SOCKS5).
    // A byte does not restart the clock.
    std::chrono::milliseconds request_head = std::chrono::seconds(30);
    // Once a request is under way (resolving, connecting, a plain HTTP
    // exchange, a CONNECT or SOCKS5 tunnel, a 403 being drained): closed when
    // no byte moved in either direction for this long.
    std::chrono::milliseconds idle = std::chrono::minutes(10);

    // How often the servers look at their connections' clocks: a tenth of
    // the shorter limit, between 10 ms and 1 s.
    std::chrono::milliseconds tick() const {
        using std::chrono::milliseconds;
        return std::clamp(std::min(request_head, idle) / 10, milliseconds(10), milliseconds(1000));
    }
};

// A run.tether.network.allowedHosts entry: a name (or IP literal) and the one
// port it may be reached on, for TCP that is not HTTP (SSH, databases).
struct HostPort {
    std::string host;
    uint16_t port = 0;
};

struct ProxyConfig {
    // Patterns as in the annotations: "example.com", "*.example.com" (subdomains
    // only). Normalized again by the proxy (case, trailing dot, IDNA).
    std::vector<std::string> allowed_domains;
    std::vector<std::string> denied_domains;
    // IP literals a client may ask for directly (also accepted in allowed_domains).
    std::vector<std::string> allowed_ip_literals;
    // run.tether.network.allowedHosts: reachable through CONNECT/SOCKS5 on
    // their port, and transparently on the destination alone.
    std::vector<HostPort> allowed_hosts;
    // CIDRs of run.tether.network.allowPrivateUpstreams: non-public upstreams allowed anyway.
    std::vector<std::string> allow_private_upstreams;
    ResolveFunction resolve;  // default: getaddrinfo
    DialFunction dial;        // default: start_connect
    std::function<void(const ProxyDecision&)> on_decision;
    unsigned resolver_threads = 4;
    ProxyTimeouts timeouts;
};

// getaddrinfo(name, AF_UNSPEC, SOCK_STREAM) on the calling thread.
std::vector<SocketAddress> resolve_with_getaddrinfo(const std::string& name, uint16_t port);

}  // namespace tether::hooks
