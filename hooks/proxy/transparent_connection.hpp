// One connection that the kernel redirected to the proxy's transparent
// listener (transparent egress, issue 21): the container connected straight
// to an address, without proxy variables, and the connect4/6 program sent it
// here. From accept until it becomes a spliced tunnel or is refused:
//
//   1. the original destination, from the kernel (OriginalDestinations), or
//      refused: a connect to the listener itself names nothing;
//   2. allowedHosts entries for that port, resolved on the host side: if one
//      resolves to the original destination, it is allowed on that alone
//      (SSH, databases: protocols where the client need not speak first);
//   3. else the first bytes: a TLS ClientHello's SNI or an HTTP/1.x Host,
//      within the request-head timeout; neither means refused;
//   4. the name against the domain rules (DestinationPolicy::check_host);
//   5. the name resolved on the host side: the original destination must be
//      one of its addresses. An allowed SNI or Host sent to some other
//      address is domain fronting (or a Host header lying about where the
//      request goes) and is refused;
//   6. the original destination against allowPrivateUpstreams;
//   7. a connect to exactly that address, which was checked; the bytes read
//      in 3 go first, then the tunnel is spliced (EgressProxy::adopt_tunnel).
// Refusals: a 403 for HTTP, a reset otherwise; each ends as one
// ProxyDecision naming the original destination, the name seen and the rule.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hooks/proxy/proxy_connection.hpp"

namespace tether::hooks {

class TransparentConnection {
public:
    using Finished = std::function<void(TransparentConnection&)>;
    using TunnelReady = std::function<void(TransparentConnection&, ProxyTunnel)>;

    // original: nullopt when the kernel had no record for this client.
    TransparentConnection(ProxyContext& context, UniqueFd client, std::optional<SocketAddress> original,
                          Finished on_finished, TunnelReady on_tunnel);
    ~TransparentConnection();
    TransparentConnection(const TransparentConnection&) = delete;
    TransparentConnection& operator=(const TransparentConnection&) = delete;

    void start();
    void on_tick(IdleWatch::Clock::time_point now);

private:
    enum class Phase { hosts, reading, resolving, connecting, closing, done };

    void next_host_candidate();
    void on_client_readable();
    void check_name(const std::string& protocol, const std::string& name);
    void on_resolved(const std::vector<SocketAddress>& addresses);
    void dial();
    void on_upstream_ready();
    void refuse(std::string rule, std::string annotation);
    void emit_decision();
    void finish(bool reset_client);
    void update_interest();

    ProxyContext& context_;
    UniqueFd client_;
    UniqueFd upstream_;
    EventLoop::Token client_token_ = 0;
    EventLoop::Token upstream_token_ = 0;
    std::optional<SocketAddress> original_;
    Finished on_finished_;
    TunnelReady on_tunnel_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

    Phase phase_ = Phase::hosts;
    IdleWatch::Clock::time_point accepted_ = IdleWatch::Clock::now();
    IdleWatch idle_;
    uint64_t progress_ = 0;
    std::string first_bytes_;
    bool is_http_ = false;
    size_t next_host_ = 0;  // the next allowedHosts entry to try in phase hosts
    DestinationVerdict verdict_;
    ProxyDecision decision_;
    bool decision_pending_ = true;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace tether::hooks
