#include "hooks/proxy/transparent_connection.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cstring>

#include "hooks/proxy/first_bytes.hpp"

namespace tether::hooks {

TransparentConnection::TransparentConnection(ProxyContext& context, UniqueFd client,
                                             std::optional<SocketAddress> original, Finished on_finished,
                                             TunnelReady on_tunnel)
    : context_(context),
      client_(std::move(client)),
      original_(std::move(original)),
      on_finished_(std::move(on_finished)),
      on_tunnel_(std::move(on_tunnel)) {
    decision_.protocol = "transparent";
    if (original_) {
        decision_.host = original_->ip_string();
        decision_.port = original_->port();
        decision_.address = original_->to_string();
    }
}

TransparentConnection::~TransparentConnection() {
    context_.loop.unwatch(client_token_);
    context_.loop.unwatch(upstream_token_);
}

void TransparentConnection::start() {
    client_token_ = context_.loop.watch(client_.get(), [this](uint32_t) { on_client_readable(); });
    if (!original_) {
        // A connect straight to the listener (or a record the map lost):
        // there is no destination to check a name against.
        refuse("transparent:no-original-destination", "");
        return;
    }
    next_host_candidate();
}

// Phase hosts: the allowedHosts entries on the original port, one after the
// other; the first whose host-side addresses include the destination wins.
void TransparentConnection::next_host_candidate() {
    const auto& hosts = context_.policy.allowed_hosts();
    while (next_host_ < hosts.size() && hosts[next_host_].port != original_->port()) ++next_host_;
    if (next_host_ == hosts.size()) {
        phase_ = Phase::reading;
        update_interest();
        on_client_readable();  // bytes may have arrived already
        return;
    }
    const HostPort& entry = hosts[next_host_++];
    auto check = [this, entry](const std::vector<SocketAddress>& addresses) {
        DestinationVerdict verdict = context_.policy.check_host(entry.host, entry.port);
        verdict = context_.policy.confirm_original(verdict, *original_, addresses);
        if (!verdict.allowed) {
            next_host_candidate();
            return;
        }
        verdict_ = verdict;
        decision_.protocol = "transparent-tcp";
        decision_.host = verdict.host;
        decision_.allowed = true;
        decision_.rule = verdict.rule;
        dial();
    };
    if (auto literal = SocketAddress::parse_ip(entry.host, entry.port)) {
        check({*literal});
        return;
    }
    std::weak_ptr<bool> alive = alive_;
    context_.resolver.resolve(entry.host, entry.port, [alive, check](std::vector<SocketAddress> addresses) {
        if (!alive.expired()) check(addresses);
    });
}

void TransparentConnection::on_client_readable() {
    if (phase_ == Phase::closing) {
        // A 403 went out: discard what the client still sends until its
        // EOF, so that closing does not reset the answer away.
        char sink[4096];
        ssize_t n = ::recv(client_.get(), sink, sizeof sink, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) finish(false);
        else if (n > 0) ++progress_;
        return;
    }
    if (phase_ != Phase::reading) return;
    bool eof = false;
    while (first_bytes_.size() < kMaxFirstBytes) {
        char chunk[4096];
        ssize_t n = ::recv(client_.get(), chunk, std::min(sizeof chunk, kMaxFirstBytes - first_bytes_.size()), 0);
        if (n > 0) {
            first_bytes_.append(chunk, static_cast<size_t>(n));
            continue;
        }
        if (n == 0) eof = true;
        else if (errno != EAGAIN && errno != EINTR) eof = true;
        break;
    }
    FirstBytes seen = read_first_bytes(first_bytes_);
    switch (seen.kind) {
        case FirstBytes::incomplete:
            if (eof) {
                decision_.error = "client closed before naming a host";
                refuse("transparent:no-name", std::string(kAllowedDomainsAnnotation));
            }
            return;
        case FirstBytes::unknown:
            refuse("transparent:not-tls-or-http", std::string(kAllowedHostsAnnotation));
            return;
        case FirstBytes::tls:
            check_name("transparent-tls", seen.name);
            return;
        case FirstBytes::http:
            is_http_ = true;
            check_name("transparent-http", seen.name);
            return;
    }
}

void TransparentConnection::check_name(const std::string& protocol, const std::string& name) {
    decision_.protocol = protocol;
    if (name.empty()) {
        refuse(is_http_ ? "transparent:no-host-header" : "transparent:no-sni", std::string(kAllowedDomainsAnnotation));
        return;
    }
    verdict_ = context_.policy.check_host(name, original_->port());
    decision_.host = verdict_.host;
    if (!verdict_.allowed) {
        refuse(verdict_.rule, verdict_.annotation);
        return;
    }
    phase_ = Phase::resolving;
    update_interest();
    if (verdict_.literal) {
        on_resolved({*verdict_.literal});
        return;
    }
    std::weak_ptr<bool> alive = alive_;
    context_.resolver.resolve(verdict_.host, original_->port(), [this, alive](std::vector<SocketAddress> addresses) {
        if (!alive.expired()) on_resolved(addresses);
    });
}

void TransparentConnection::on_resolved(const std::vector<SocketAddress>& addresses) {
    if (phase_ != Phase::resolving) return;
    verdict_ = context_.policy.confirm_original(verdict_, *original_, addresses);
    if (!verdict_.allowed) {
        refuse(verdict_.rule, verdict_.annotation);
        return;
    }
    decision_.allowed = true;
    decision_.rule = verdict_.rule;
    dial();
}

// Exactly the address the client asked for and the checks passed on; never
// the name again.
void TransparentConnection::dial() {
    phase_ = Phase::connecting;
    ConnectAttempt attempt = context_.dial(*original_);
    if (attempt.error) {
        decision_.error = std::string("connect: ") + std::strerror(attempt.error);
        finish(true);
        return;
    }
    upstream_ = std::move(attempt.fd);
    upstream_token_ = context_.loop.watch(upstream_.get(), [this](uint32_t) { on_upstream_ready(); });
    update_interest();
}

void TransparentConnection::on_upstream_ready() {
    if (phase_ != Phase::connecting) return;
    if (int err = take_socket_error(upstream_.get())) {
        decision_.error = std::string("connect: ") + std::strerror(err);
        finish(true);
        return;
    }
    set_nodelay(upstream_.get());
    context_.loop.unwatch(client_token_);
    context_.loop.unwatch(upstream_token_);
    client_token_ = upstream_token_ = 0;
    phase_ = Phase::done;
    decision_pending_ = false;
    ProxyTunnel tunnel{std::move(client_), std::move(upstream_), std::move(first_bytes_), decision_, started_};
    on_tunnel_(*this, std::move(tunnel));
}

void TransparentConnection::refuse(std::string rule, std::string annotation) {
    decision_.allowed = false;
    decision_.rule = std::move(rule);
    decision_.annotation = std::move(annotation);
    emit_decision();
    if (!is_http_) {
        // TLS or anything else: a reset, the one answer every client
        // understands as "no".
        finish(true);
        return;
    }
    std::string body = "tether egress proxy: " + decision_.host + " denied by rule " + decision_.rule;
    if (!decision_.annotation.empty()) body += "; to allow it, add it to the annotation " + decision_.annotation;
    std::string response = make_http_response(403, "Forbidden", body + "\n", true);
    // Small and the socket fresh: one non-blocking send, then FIN.
    [[maybe_unused]] auto n = ::send(client_.get(), response.data(), response.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    ::shutdown(client_.get(), SHUT_WR);
    phase_ = Phase::closing;
    update_interest();
}

void TransparentConnection::emit_decision() {
    if (!decision_pending_) return;
    decision_pending_ = false;
    decision_.duration_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
    if (context_.on_decision) context_.on_decision(decision_);
}

void TransparentConnection::on_tick(IdleWatch::Clock::time_point now) {
    if (phase_ == Phase::done) return;
    if (phase_ == Phase::reading) {
        // Nothing (or not enough) said within the head timeout: no name, no
        // connection. A byte now and then does not restart the clock.
        if (now - accepted_ >= context_.timeouts.request_head) {
            decision_.error = "no TLS ClientHello or HTTP head in time";
            refuse("transparent:no-name", std::string(kAllowedDomainsAnnotation));
        }
        return;
    }
    if (idle_.idle_for(progress_, now) >= context_.timeouts.idle) {
        if (decision_pending_) decision_.error = "idle timeout";
        finish(phase_ != Phase::closing);
    }
}

void TransparentConnection::finish(bool reset_client) {
    if (phase_ == Phase::done) return;
    emit_decision();
    phase_ = Phase::done;
    context_.loop.unwatch(client_token_);
    context_.loop.unwatch(upstream_token_);
    client_token_ = upstream_token_ = 0;
    upstream_.reset();
    if (reset_client) set_reset_on_close(client_.get());
    client_.reset();
    on_finished_(*this);
}

void TransparentConnection::update_interest() {
    if (phase_ == Phase::done) return;
    bool read = phase_ == Phase::reading || phase_ == Phase::closing;
    context_.loop.set_events(client_token_, read ? uint32_t{EPOLLIN} : 0u);
    if (upstream_token_) context_.loop.set_events(upstream_token_, phase_ == Phase::connecting ? uint32_t{EPOLLOUT} : 0u);
}

}  // namespace tether::hooks
