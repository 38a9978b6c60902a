// One client connection of the egress proxy, from its first byte until it
// becomes a spliced tunnel (CONNECT, SOCKS5) or closes (plain HTTP, denials).
//
// The first byte picks the protocol: 0x05 is SOCKS5, anything else HTTP/1.1.
// Every destination goes through the same steps, in this order:
//   1. the name (or IP literal) against the domain rules      (DestinationPolicy::check_host)
//   2. one resolution on the host side, on a resolver thread   (ResolverPool)
//   3. the resolved addresses against allowPrivateUpstreams    (DestinationPolicy::choose_address)
//   4. a connect to exactly the address chosen in 3            (ProxyContext::dial)
// Plain HTTP is relayed through bounded userspace buffers (it must be parsed
// for keep-alive); tunnels are handed to SpliceRelay.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "hooks/net/event_loop.hpp"
#include "hooks/proxy/destination_policy.hpp"
#include "hooks/proxy/http_message.hpp"
#include "hooks/proxy/idle_watch.hpp"
#include "hooks/proxy/proxy_config.hpp"
#include "hooks/proxy/resolver_pool.hpp"
#include "runtime/core/unique_fd.hpp"

namespace tether::hooks {

// What all connections of one proxy share.
struct ProxyContext {
    EventLoop& loop;
    DestinationPolicy policy;
    ResolverPool resolver;
    DialFunction dial;
    std::function<void(const ProxyDecision&)> on_decision;
    ProxyTimeouts timeouts;
};

// A connected tunnel, ready for SpliceRelay. decision is complete but for the
// byte counts and the duration, which the relay supplies at the end.
struct ProxyTunnel {
    UniqueFd client;
    UniqueFd upstream;
    std::string first_bytes_to_upstream;
    ProxyDecision decision;
    std::chrono::steady_clock::time_point started;
};

class ProxyConnection {
public:
    // Both run inside this connection's handler: the owner must destroy the
    // connection later (EventLoop::post), never from the callback itself.
    using Finished = std::function<void(ProxyConnection&)>;
    using TunnelReady = std::function<void(ProxyConnection&, ProxyTunnel)>;

    ProxyConnection(ProxyContext& context, UniqueFd client, Finished on_finished, TunnelReady on_tunnel);
    ~ProxyConnection();
    ProxyConnection(const ProxyConnection&) = delete;
    ProxyConnection& operator=(const ProxyConnection&) = delete;

    void start();
    // The owner's periodic check of context.timeouts (EgressProxy's tick): a
    // connection past its deadline answers if it can (408, 504) and closes.
    // Like the callbacks above, it may finish the connection.
    void on_tick(IdleWatch::Clock::time_point now);

private:
    enum class Phase {
        detect,
        http_head,
        socks_greeting,
        socks_request,
        resolving,
        connecting,
        http_request_body,
        http_response_head,
        http_response_body,
        closing,  // flush client_out_, then close
        done,
    };
    enum class Mode { http_connect, http_plain, socks5 };

    void on_event();
    bool do_reads();
    bool do_writes();
    // Handles a socket error of the last reads or writes; false when there was one.
    bool io_errors(int client_error, int upstream_error);
    bool upstream_exchanging() const;
    bool advance();
    bool advance_http_head();
    bool advance_socks_greeting();
    bool advance_socks_request();
    bool advance_request_body();
    bool advance_response_head();
    bool advance_response_body();

    void begin_request(Mode mode, const std::string& host, uint16_t port);
    void on_resolved(std::vector<SocketAddress> addresses);
    void on_upstream_connected();
    void fail_upstream(const std::string& error, int err);
    void deny(const DestinationVerdict& verdict);
    void respond_and_close(int status, std::string_view reason, std::string_view body);
    void emit_decision();
    void drop_upstream();
    void update_interest();
    void finish(bool reset_client);
    bool awaiting_request_head() const;
    void request_head_timed_out();
    void idle_timed_out();
    void close_after_last_words(std::string last_words);

    ProxyContext& context_;
    UniqueFd client_;
    UniqueFd upstream_;
    EventLoop::Token client_token_ = 0;
    EventLoop::Token upstream_token_ = 0;
    Finished on_finished_;
    TunnelReady on_tunnel_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for resolver callbacks

    // Timeouts: the head clock starts at accept and at each keep-alive
    // request; the idle watch sees progress_, bumped by every round of I/O.
    IdleWatch::Clock::time_point head_started_ = IdleWatch::Clock::now();
    IdleWatch idle_;
    uint64_t progress_ = 0;

    Phase phase_ = Phase::detect;
    Mode mode_ = Mode::http_plain;
    std::string client_in_, client_out_, upstream_in_, upstream_out_;
    bool client_eof_ = false;
    bool upstream_eof_ = false;
    // epoll said readable and no read has drained the socket since (read_into).
    bool client_readable_ = true;
    bool upstream_readable_ = true;
    bool client_shut_ = false;  // FIN sent to the client (closing phase)
    uint64_t discarded_ = 0;    // client bytes dropped after the final response

    // The request in flight.
    DestinationVerdict verdict_;
    ProxyDecision decision_;
    bool decision_pending_ = false;
    std::chrono::steady_clock::time_point started_;
    std::string upstream_key_;  // "host:port" the open upstream serves (keep-alive reuse)
    std::string method_;
    std::string pending_request_head_;  // rewritten head, sent once connected
    bool close_after_response_ = false;
    BodyFraming request_framing_, response_framing_;
    uint64_t body_remaining_ = 0;
    ChunkedBodyScanner chunked_;
    bool response_started_ = false;  // bytes of this response already went to the client
};

}  // namespace tether::hooks
