// Allowlist-only DNS inside the container (issue 21). tether-netd answers
// the container's queries itself on a UDP socket in the container's network
// namespace (127.0.0.1:53 and [::1]:53); the kernel's sendmsg4/6 and
// connect4/6 programs send every UDP datagram to port 53, whatever address
// it was for, there (hooks/bpf/socket_programs.hpp), so the container's
// /etc/resolv.conf needs no change.
//
//   A / AAAA for a name allowedDomains or allowedHosts covers
//       -> the addresses of the proxy's own host-side resolution (the same
//          ResolverPool), those the proxy would dial (public, or inside
//          allowPrivateUpstreams); no such address: NOERROR with no record
//   A / AAAA for any other name           -> NXDOMAIN
//   any other type (TXT, ANY, MX, ...)    -> REFUSED
//   malformed / other opcodes             -> FORMERR / NOTIMP
//   over the rate limit                   -> REFUSED
// No query is ever passed upstream: the only host-side lookups are of
// allowlisted names, made by the host's resolver as the proxy's are.
// Every answer is a decision line (syscall "dns"); refusals for the rate
// limit are logged once a second, with the count of those not logged (and
// that count once more when the responder goes, if a flood was going on).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "hooks/dns/dns_message.hpp"
#include "hooks/dns/token_bucket.hpp"
#include "hooks/net/event_loop.hpp"
#include "hooks/net/listener_set.hpp"
#include "hooks/net/socket_util.hpp"
#include "runtime/core/unique_fd.hpp"

namespace tether::hooks {
struct ProxyContext;
}

namespace tether::hooks::dns {

// The port the responder listens on inside the container's namespace.
inline constexpr uint16_t kDnsPortInNamespace = 53;

struct DnsDecision {
    std::string client;  // "127.0.0.1:40000"
    int family = 0;      // of the client's socket
    std::string name;    // as asked, lower-case
    std::string type;    // "A", "TXT", ...
    bool allowed = false;
    std::string rule;        // "allowedDomains:*.example.com", "not-in-allowedDomains", "dns-type-refused", ...
    std::string annotation;  // what would allow a refused name
    std::string answer;      // addresses given, comma-separated
    std::string error;
};

struct DnsLimits {
    double queries_per_second = 20;
    double burst = 40;
    uint32_t ttl_seconds = 30;
};

class DnsResponder {
public:
    using OnDecision = std::function<void(const DnsDecision&)>;
    // `proxy` (its policy and resolver) must outlive the responder.
    DnsResponder(EventLoop& loop, ProxyContext& proxy, OnDecision on_decision, DnsLimits limits = {});
    ~DnsResponder();
    DnsResponder(const DnsResponder&) = delete;
    DnsResponder& operator=(const DnsResponder&) = delete;

    // A bound UDP socket (non-blocking is set here).
    void add_socket(UniqueFd socket);

private:
    void read_all(int fd);
    void handle(int fd, const SocketAddress& client, const Query& query);
    void reply(int fd, const SocketAddress& client, const Query& query, const Answer& answer, DnsDecision decision);

    EventLoop& loop_;
    ProxyContext& proxy_;
    OnDecision on_decision_;
    DnsLimits limits_;
    TokenBucket bucket_;
    std::chrono::steady_clock::time_point last_limit_log_{};
    uint64_t unlogged_refusals_ = 0;
    ListenerSet sockets_{loop_, [this](int fd) { read_all(fd); }};  // each readable socket: read_all
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards resolver callbacks
};

}  // namespace tether::hooks::dns
