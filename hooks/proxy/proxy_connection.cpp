#include "hooks/proxy/proxy_connection.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cstring>

#include "hooks/proxy/socks5.hpp"

namespace tether::hooks {

namespace {

// Per-buffer bound: a slow reader on one side stops reads on the other.
constexpr size_t kBufferLimit = kMaxHttpHeadSize;
// What a denied client may still send (e.g. a request body) before we stop listening.
constexpr uint64_t kMaxDiscardAfterResponse = 1 << 20;

// Reads what fits into buffer; false when nothing was read. Sets eof / error.
// `readable` is what epoll last said about fd: a read is only tried while it
// holds, and a short read or EAGAIN clears it (the socket is drained; epoll is
// level-triggered, so more data brings a new event). Without it every round
// of a keep-alive request paid a recv that ended in EAGAIN on each socket.
bool read_into(int fd, std::string& buffer, bool& readable, bool& eof, int& error) {
    if (!readable || buffer.size() >= kBufferLimit) return false;
    char chunk[16384];
    size_t want = std::min(sizeof chunk, kBufferLimit - buffer.size());
    ssize_t n = recv(fd, chunk, want, 0);
    if (n > 0) {
        buffer.append(chunk, static_cast<size_t>(n));
        if (static_cast<size_t>(n) < want) readable = false;
        return true;
    }
    if (n == 0) {
        eof = true;
        return true;
    }
    if (errno == EAGAIN) readable = false;
    else if (errno != EINTR) error = errno;
    return error != 0;
}

constexpr uint32_t kReadableEvents = EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR;

bool write_from(int fd, std::string& buffer, int& error) {
    if (buffer.empty()) return false;
    ssize_t n = send(fd, buffer.data(), buffer.size(), MSG_NOSIGNAL);
    if (n > 0) {
        buffer.erase(0, static_cast<size_t>(n));
        return true;
    }
    if (errno != EAGAIN && errno != EINTR) error = errno;
    return error != 0;
}

uint8_t socks_reply_for_errno(int err) {
    switch (err) {
        case ECONNREFUSED: return socks5::connection_refused;
        case ENETUNREACH: return socks5::network_unreachable;
        case EHOSTUNREACH:
        case ETIMEDOUT: return socks5::host_unreachable;
        default: return socks5::general_failure;
    }
}

}  // namespace

ProxyConnection::ProxyConnection(ProxyContext& context, UniqueFd client, Finished on_finished, TunnelReady on_tunnel)
    : context_(context), client_(std::move(client)), on_finished_(std::move(on_finished)), on_tunnel_(std::move(on_tunnel)) {}

ProxyConnection::~ProxyConnection() {
    context_.loop.unwatch(client_token_);
    context_.loop.unwatch(upstream_token_);
}

void ProxyConnection::start() {
    set_nodelay(client_.get());
    client_token_ = context_.loop.watch(client_.get(), [this](uint32_t events) {
        if (events & kReadableEvents) client_readable_ = true;
        on_event();
    });
    update_interest();
}

void ProxyConnection::on_event() {
    if (phase_ == Phase::done) return;
    // Read, then move what was read as far as it goes, then write: a response
    // whose head and body came in one read leaves in one send (one segment, one
    // wake-up of the client), not head first and body in the next round.
    while (phase_ != Phase::done) {
        bool progress = do_reads();
        if (phase_ == Phase::done) return;
        while (advance()) progress = true;
        if (phase_ == Phase::done) return;
        progress |= do_writes();
        if (progress) ++progress_;
        if (phase_ == Phase::done) return;
        if (!progress) break;
    }
    if (phase_ == Phase::done) return;
    if (phase_ == Phase::closing && client_out_.empty()) {
        // Closing a socket with unread input sends RST, which can destroy the 403
        // still in flight to the client. Send FIN, then discard what the client
        // still sends (a request body) until its EOF, up to a bound.
        if (!client_shut_) {
            shutdown(client_.get(), SHUT_WR);
            client_shut_ = true;
        }
        discarded_ += client_in_.size();
        client_in_.clear();
        if (client_eof_ || discarded_ > kMaxDiscardAfterResponse) {
            finish(false);
            return;
        }
    }
    update_interest();
}

bool ProxyConnection::upstream_exchanging() const {
    return upstream_ && (phase_ == Phase::http_request_body || phase_ == Phase::http_response_head ||
                         phase_ == Phase::http_response_body);
}

bool ProxyConnection::do_reads() {
    bool progress = false;
    int client_error = 0, upstream_error = 0;
    if (!client_eof_) progress |= read_into(client_.get(), client_in_, client_readable_, client_eof_, client_error);
    if (upstream_exchanging() && !upstream_eof_)
        progress |= read_into(upstream_.get(), upstream_in_, upstream_readable_, upstream_eof_, upstream_error);
    return io_errors(client_error, upstream_error) && progress;
}

bool ProxyConnection::do_writes() {
    bool progress = false;
    int client_error = 0, upstream_error = 0;
    progress |= write_from(client_.get(), client_out_, client_error);
    if (upstream_exchanging()) progress |= write_from(upstream_.get(), upstream_out_, upstream_error);
    return io_errors(client_error, upstream_error) && progress;
}

bool ProxyConnection::io_errors(int client_error, int upstream_error) {
    if (client_error) {
        // The client is gone; nothing more can be told to it.
        if (decision_pending_) decision_.error = std::string("client: ") + std::strerror(client_error);
        finish(true);
        return false;
    }
    if (upstream_error) {
        if (!response_started_) {
            fail_upstream(std::string("upstream: ") + std::strerror(upstream_error), upstream_error);
        } else {
            decision_.error = std::string("upstream: ") + std::strerror(upstream_error);
            finish(true);  // mid-response: the client must see a reset, not a clean end
        }
        return false;
    }
    return true;
}

bool ProxyConnection::advance() {
    switch (phase_) {
        case Phase::detect:
            if (client_in_.empty()) {
                if (client_eof_) finish(false);
                return false;
            }
            phase_ = static_cast<uint8_t>(client_in_[0]) == socks5::kVersion ? Phase::socks_greeting : Phase::http_head;
            return true;
        case Phase::http_head: return advance_http_head();
        case Phase::socks_greeting: return advance_socks_greeting();
        case Phase::socks_request: return advance_socks_request();
        case Phase::http_request_body: return advance_request_body();
        case Phase::http_response_head: return advance_response_head();
        case Phase::http_response_body: return advance_response_body();
        case Phase::resolving:
        case Phase::connecting:
        case Phase::closing:
        case Phase::done: return false;
    }
    return false;
}

bool ProxyConnection::advance_http_head() {
    if (client_in_.empty() && client_eof_) {
        finish(false);
        return false;
    }
    size_t end = find_head_end(client_in_);
    if (end == std::string::npos) {
        if (client_in_.size() >= kMaxHttpHeadSize) respond_and_close(431, "Request Header Fields Too Large", "request head too large\n");
        else if (client_eof_) finish(false);
        return false;
    }
    auto head = parse_http_head(std::string_view(client_in_).substr(0, end));
    client_in_.erase(0, end);
    if (!head) {
        respond_and_close(400, "Bad Request", "malformed request head\n");
        return false;
    }
    method_ = head->start_line_1;
    if (method_ == "CONNECT") {
        auto target = parse_authority(head->start_line_2, 0);
        if (!target) {
            respond_and_close(400, "Bad Request", "CONNECT needs host:port\n");
            return false;
        }
        begin_request(Mode::http_connect, target->host, target->port);
        return true;
    }
    auto target = parse_absolute_http_target(head->start_line_2);
    auto framing = request_body_framing(*head);
    if (!target || !framing || framing->kind == BodyFraming::until_close) {
        respond_and_close(400, "Bad Request",
                          "tether egress proxy: expected CONNECT or an absolute http:// request with a framed body\n");
        return false;
    }
    request_framing_ = *framing;
    body_remaining_ = framing->length;
    chunked_ = ChunkedBodyScanner();
    close_after_response_ = head->header_has_token("Connection", "close") ||
                            head->header_has_token("Proxy-Connection", "close") || head->start_line_3 == "HTTP/1.0";
    pending_request_head_ = rewrite_request_for_origin(*head, *target);
    std::string key = target->host + ":" + std::to_string(target->port);
    if (upstream_ && key == upstream_key_ && !upstream_eof_) {
        // Keep-alive to the same origin: the name was resolved, its address
        // checked and dialled already, so neither is done again; the name is
        // checked against the rules again (a string compare) and a denial is
        // enforced, so every request gets its own decision.
        mode_ = Mode::http_plain;
        started_ = std::chrono::steady_clock::now();
        DestinationVerdict verdict = context_.policy.check_host(target->host, target->port);
        decision_ = ProxyDecision{"http", verdict.host, target->port, verdict_.address ? verdict_.address->to_string() : "",
                                  verdict.allowed, verdict.rule, verdict.annotation, ""};
        decision_pending_ = true;
        if (!verdict.allowed) {
            deny(verdict);
            return false;
        }
        on_upstream_connected();
        return true;
    }
    drop_upstream();
    upstream_key_ = key;
    begin_request(Mode::http_plain, target->host, target->port);
    return true;
}

bool ProxyConnection::advance_socks_greeting() {
    socks5::Greeting greeting;
    auto status = socks5::parse_greeting(client_in_, greeting);
    if (status == socks5::ParseStatus::incomplete) {
        if (client_eof_) finish(false);
        return false;
    }
    if (status == socks5::ParseStatus::invalid) {
        finish(false);
        return false;
    }
    client_in_.erase(0, greeting.size);
    if (!greeting.offers_no_auth) {
        client_out_ += std::string{static_cast<char>(socks5::kVersion), static_cast<char>(0xff)};
        phase_ = Phase::closing;
        return true;
    }
    client_out_ += std::string{static_cast<char>(socks5::kVersion), 0};
    phase_ = Phase::socks_request;
    return true;
}

bool ProxyConnection::advance_socks_request() {
    socks5::Request request;
    auto status = socks5::parse_request(client_in_, request);
    if (status == socks5::ParseStatus::incomplete) {
        if (client_eof_) finish(false);
        return false;
    }
    if (status == socks5::ParseStatus::invalid) {
        client_out_ += socks5::make_reply(socks5::general_failure);
        phase_ = Phase::closing;
        return true;
    }
    client_in_.erase(0, request.size);
    if (request.unsupported_reply != socks5::succeeded) {
        client_out_ += socks5::make_reply(request.unsupported_reply);
        phase_ = Phase::closing;
        return true;
    }
    begin_request(Mode::socks5, request.host, request.port);
    return true;
}

void ProxyConnection::begin_request(Mode mode, const std::string& host, uint16_t port) {
    mode_ = mode;
    started_ = std::chrono::steady_clock::now();
    verdict_ = context_.policy.check_host(host, port);
    const char* protocol = mode == Mode::socks5 ? "socks5" : mode == Mode::http_connect ? "connect" : "http";
    decision_ = ProxyDecision{protocol, verdict_.host, port, "", verdict_.allowed, verdict_.rule, verdict_.annotation, ""};
    decision_pending_ = true;
    if (!verdict_.allowed) {
        deny(verdict_);
        return;
    }
    if (verdict_.literal) {
        // Nothing to resolve: the literal itself is the one address to check.
        phase_ = Phase::resolving;
        on_resolved({*verdict_.literal});
        return;
    }
    phase_ = Phase::resolving;
    std::weak_ptr<bool> alive = alive_;
    context_.resolver.resolve(verdict_.host, port, [this, alive](std::vector<SocketAddress> addresses) {
        if (alive.expired()) return;  // the client left while we resolved
        on_resolved(std::move(addresses));
        if (phase_ != Phase::done) on_event();
    });
}

void ProxyConnection::on_resolved(std::vector<SocketAddress> addresses) {
    if (phase_ != Phase::resolving) return;
    verdict_ = context_.policy.choose_address(verdict_, addresses);
    decision_.rule = verdict_.rule;
    decision_.annotation = verdict_.annotation;
    if (!verdict_.allowed) {
        decision_.allowed = false;
        if (verdict_.rule == "no-address") {
            decision_.allowed = true;  // allowed by the rules, but the name does not exist
            fail_upstream("resolve: no address for " + verdict_.host, EHOSTUNREACH);
            return;
        }
        deny(verdict_);
        return;
    }
    // Dial exactly the address that was checked; never the name again.
    decision_.address = verdict_.address->to_string();
    ConnectAttempt attempt = context_.dial(*verdict_.address);
    if (attempt.error) {
        fail_upstream(std::string("connect: ") + std::strerror(attempt.error), attempt.error);
        return;
    }
    upstream_ = std::move(attempt.fd);
    set_nodelay(upstream_.get());  // once per socket, not per keep-alive request
    upstream_eof_ = false;
    upstream_readable_ = true;
    upstream_in_.clear();
    upstream_out_.clear();
    upstream_token_ = context_.loop.watch(upstream_.get(), [this](uint32_t events) {
        if (events & kReadableEvents) upstream_readable_ = true;
        if (phase_ == Phase::connecting) {
            int err = take_socket_error(upstream_.get());
            if (err) fail_upstream(std::string("connect: ") + std::strerror(err), err);
            else on_upstream_connected();
        } else if (!upstream_exchanging() && phase_ != Phase::done && (events & kReadableEvents)) {
            // An idle keep-alive upstream (watched for EPOLLIN between requests
            // so that its interest need not change per request) that closes
            // or sends unasked: it cannot serve the next request; forget it.
            drop_upstream();
        }
        on_event();
    });
    phase_ = Phase::connecting;
    update_interest();
}

void ProxyConnection::on_upstream_connected() {
    if (mode_ == Mode::http_plain) {
        decision_.bytes_up += pending_request_head_.size();
        upstream_out_ += pending_request_head_;
        pending_request_head_.clear();
        response_started_ = false;
        phase_ = Phase::http_request_body;
        return;
    }
    // Tunnels: the reply is tiny and the socket fresh, so it goes out at once.
    std::string reply = mode_ == Mode::socks5 ? socks5::make_reply(socks5::succeeded)
                                               : std::string("HTTP/1.1 200 Connection established\r\n\r\n");
    client_out_ += reply;
    int error = 0;
    while (!client_out_.empty() && write_from(client_.get(), client_out_, error) && !error) {
    }
    if (error || !client_out_.empty()) {
        decision_.error = "client: could not send the tunnel reply";
        finish(true);
        return;
    }
    context_.loop.unwatch(client_token_);
    context_.loop.unwatch(upstream_token_);
    client_token_ = upstream_token_ = 0;
    phase_ = Phase::done;
    decision_pending_ = false;
    ProxyTunnel tunnel{std::move(client_), std::move(upstream_), std::move(client_in_), decision_, started_};
    on_tunnel_(*this, std::move(tunnel));
}

void ProxyConnection::fail_upstream(const std::string& error, int err) {
    decision_.error = error;
    drop_upstream();
    if (mode_ == Mode::socks5) {
        client_out_ += socks5::make_reply(socks_reply_for_errno(err));
        emit_decision();
        phase_ = Phase::closing;
    } else {
        respond_and_close(502, "Bad Gateway", "tether egress proxy: " + verdict_.host + ": " + error + "\n");
    }
}

void ProxyConnection::deny(const DestinationVerdict& verdict) {
    decision_.allowed = false;
    if (mode_ == Mode::socks5) {
        client_out_ += socks5::make_reply(socks5::not_allowed_by_ruleset);
        emit_decision();
        phase_ = Phase::closing;
        return;
    }
    respond_and_close(403, "Forbidden", verdict.explanation());
}

void ProxyConnection::respond_and_close(int status, std::string_view reason, std::string_view body) {
    client_out_ += make_http_response(status, reason, body, true);
    emit_decision();
    drop_upstream();
    phase_ = Phase::closing;
}

bool ProxyConnection::advance_request_body() {
    bool progress = false;
    if (request_framing_.kind == BodyFraming::none) {
        phase_ = Phase::http_response_head;
        return true;
    }
    size_t room = kBufferLimit > upstream_out_.size() ? kBufferLimit - upstream_out_.size() : 0;
    size_t take = std::min(room, client_in_.size());
    if (request_framing_.kind == BodyFraming::content_length) {
        take = static_cast<size_t>(std::min<uint64_t>(take, body_remaining_));
        body_remaining_ -= take;
    } else {
        take = chunked_.consume(std::string_view(client_in_).substr(0, take));
        if (chunked_.failed()) {
            respond_and_close(400, "Bad Request", "malformed chunked body\n");
            return false;
        }
    }
    if (take) {
        upstream_out_.append(client_in_, 0, take);
        client_in_.erase(0, take);
        decision_.bytes_up += take;
        progress = true;
    }
    bool complete = request_framing_.kind == BodyFraming::content_length ? body_remaining_ == 0 : chunked_.done();
    if (complete) {
        phase_ = Phase::http_response_head;
        return true;
    }
    if (client_eof_ && client_in_.empty()) finish(true);  // the body was cut short
    return progress;
}

bool ProxyConnection::advance_response_head() {
    size_t end = find_head_end(upstream_in_);
    if (end == std::string::npos) {
        if (upstream_in_.size() >= kMaxHttpHeadSize) {
            respond_and_close(502, "Bad Gateway", "response head too large\n");
        } else if (upstream_eof_) {
            fail_upstream("upstream closed before responding", ECONNRESET);
        }
        return false;
    }
    auto head = parse_http_head(std::string_view(upstream_in_).substr(0, end));
    std::optional<BodyFraming> framing = head ? response_body_framing(*head, method_) : std::nullopt;
    if (!framing) {
        respond_and_close(502, "Bad Gateway", "malformed response from upstream\n");
        return false;
    }
    response_started_ = true;
    client_out_.append(upstream_in_, 0, end);
    decision_.bytes_down += end;
    upstream_in_.erase(0, end);
    int status = std::atoi(head->start_line_2.c_str());
    if (status >= 100 && status < 200 && status != 101) return true;  // 100 Continue: the real head follows
    if (status == 101) framing = BodyFraming{BodyFraming::until_close, 0};
    if (head->header_has_token("Connection", "close") || head->start_line_1 == "HTTP/1.0") close_after_response_ = true;
    response_framing_ = *framing;
    body_remaining_ = framing->length;
    chunked_ = ChunkedBodyScanner();
    phase_ = Phase::http_response_body;
    return true;
}

bool ProxyConnection::advance_response_body() {
    bool progress = false;
    size_t room = kBufferLimit > client_out_.size() ? kBufferLimit - client_out_.size() : 0;
    size_t take = std::min(room, upstream_in_.size());
    switch (response_framing_.kind) {
        case BodyFraming::none: take = 0; break;
        case BodyFraming::content_length:
            take = static_cast<size_t>(std::min<uint64_t>(take, body_remaining_));
            body_remaining_ -= take;
            break;
        case BodyFraming::chunked:
            take = chunked_.consume(std::string_view(upstream_in_).substr(0, take));
            if (chunked_.failed()) {
                decision_.error = "malformed chunked response";
                finish(true);
                return false;
            }
            break;
        case BodyFraming::until_close: break;
    }
    if (take) {
        client_out_.append(upstream_in_, 0, take);
        upstream_in_.erase(0, take);
        decision_.bytes_down += take;
        progress = true;
    }
    bool complete = false;
    switch (response_framing_.kind) {
        case BodyFraming::none: complete = true; break;
        case BodyFraming::content_length: complete = body_remaining_ == 0; break;
        case BodyFraming::chunked: complete = chunked_.done(); break;
        case BodyFraming::until_close: complete = upstream_eof_ && upstream_in_.empty(); break;
    }
    if (!complete) {
        if (upstream_eof_ && upstream_in_.empty()) {
            decision_.error = "upstream closed mid-response";
            finish(true);
            return false;
        }
        return progress;
    }
    emit_decision();
    if (close_after_response_ || response_framing_.kind == BodyFraming::until_close) {
        drop_upstream();
        phase_ = Phase::closing;
        return true;
    }
    phase_ = Phase::http_head;  // keep-alive: the next request may already be buffered
    head_started_ = IdleWatch::Clock::now();
    return true;
}

void ProxyConnection::emit_decision() {
    if (!decision_pending_) return;
    decision_pending_ = false;
    decision_.duration_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
    if (context_.on_decision) context_.on_decision(decision_);
}

void ProxyConnection::drop_upstream() {
    context_.loop.unwatch(upstream_token_);
    upstream_token_ = 0;
    upstream_.reset();
    upstream_key_.clear();
    upstream_in_.clear();
    upstream_out_.clear();
    upstream_eof_ = false;
}

void ProxyConnection::update_interest() {
    if (phase_ == Phase::done) return;
    bool client_read = !client_eof_ && client_in_.size() < kBufferLimit && (phase_ != Phase::closing || client_shut_);
    context_.loop.set_events(client_token_, (client_read ? uint32_t{EPOLLIN} : 0u) |
                                                (client_out_.empty() ? 0u : uint32_t{EPOLLOUT}));
    if (!upstream_token_) return;
    uint32_t upstream_events = 0;
    if (phase_ == Phase::connecting) {
        upstream_events = EPOLLOUT;
    } else if (upstream_exchanging()) {
        if (!upstream_eof_ && upstream_in_.size() < kBufferLimit) upstream_events |= EPOLLIN;
        if (!upstream_out_.empty()) upstream_events |= EPOLLOUT;
    } else if (phase_ == Phase::http_head && !upstream_eof_) {
        // Idle keep-alive upstream: the same interest as during an exchange
        // (no epoll_ctl per request); an event now drops it (see on_resolved).
        upstream_events = EPOLLIN;
    }
    context_.loop.set_events(upstream_token_, upstream_events);
}

bool ProxyConnection::awaiting_request_head() const {
    return phase_ == Phase::detect || phase_ == Phase::http_head || phase_ == Phase::socks_greeting ||
           phase_ == Phase::socks_request;
}

void ProxyConnection::on_tick(IdleWatch::Clock::time_point now) {
    if (phase_ == Phase::done) return;
    if (awaiting_request_head()) {
        // The head clock alone decides here: a byte now and then must not
        // keep a connection that never finishes its head.
        if (now - head_started_ >= context_.timeouts.request_head) request_head_timed_out();
        return;
    }
    if (idle_.idle_for(progress_, now) >= context_.timeouts.idle) idle_timed_out();
}

void ProxyConnection::request_head_timed_out() {
    // Part of an HTTP head: say why (RFC 9110, 408). Nothing yet (a keep-alive
    // connection between requests) or SOCKS5, which has no such reply: close.
    if (phase_ == Phase::http_head && !client_in_.empty())
        client_out_ += make_http_response(408, "Request Timeout", "tether egress proxy: request head not received in time\n", true);
    close_after_last_words({});
}

void ProxyConnection::idle_timed_out() {
    if (decision_pending_) decision_.error = "idle timeout";
    if (phase_ == Phase::closing || response_started_) {
        // A response cut short must not look complete: reset. A 403 already
        // sent (closing) ends normally.
        finish(phase_ != Phase::closing);
        return;
    }
    std::string last_words;
    if (mode_ == Mode::socks5) {
        last_words = socks5::make_reply(socks5::host_unreachable);
    } else if (phase_ == Phase::http_request_body) {
        last_words = make_http_response(408, "Request Timeout", "tether egress proxy: request body stalled\n", true);
    } else {
        last_words = make_http_response(504, "Gateway Timeout",
                                        "tether egress proxy: " + verdict_.host + ": no answer (idle timeout)\n", true);
    }
    emit_decision();
    close_after_last_words(std::move(last_words));
}

// One non-blocking attempt to send a last reply, then close: a client that
// stalled is not waited for again.
void ProxyConnection::close_after_last_words(std::string last_words) {
    client_out_ += last_words;
    int error = 0;
    while (!client_out_.empty() && write_from(client_.get(), client_out_, error) && !error) {
    }
    finish(false);
}

void ProxyConnection::finish(bool reset_client) {
    if (phase_ == Phase::done) return;
    if (decision_pending_ && decision_.error.empty() && decision_.allowed) decision_.error = "connection closed";
    emit_decision();
    phase_ = Phase::done;
    drop_upstream();
    context_.loop.unwatch(client_token_);
    client_token_ = 0;
    if (reset_client) set_reset_on_close(client_.get());
    client_.reset();
    on_finished_(*this);
}

}  // namespace tether::hooks
