#include "hooks/dns/dns_responder.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "hooks/proxy/destination_policy.hpp"
#include "hooks/proxy/proxy_connection.hpp"

namespace tether::hooks::dns {
namespace {

// Datagrams read per wake-up, so one busy socket cannot starve the loop.
constexpr int kReadsPerWake = 64;

// Whether the allowlists cover `name` for DNS, and by which rule: an
// allowedDomains pattern, or an allowedHosts entry's name on any port
// (deniedDomains still wins). IP literals are not names: "1.2.3.4" as a
// question gets NXDOMAIN like any other unlisted name.
DestinationVerdict name_verdict(const DestinationPolicy& policy, const std::string& name) {
    DestinationVerdict verdict;
    if (name.empty() || SocketAddress::parse_ip(name, 0)) {
        verdict.host = name;
        verdict.rule = "not-a-host-name";
        return verdict;
    }
    verdict = policy.check_host(name, 0);
    if (verdict.allowed || verdict.rule.rfind("deniedDomains:", 0) == 0) return verdict;
    for (const auto& entry : policy.allowed_hosts()) {
        if (entry.host == verdict.host) {
            verdict.allowed = true;
            verdict.rule = std::string("allowedHosts:") + entry.host;
            verdict.annotation.clear();
            return verdict;
        }
    }
    if (verdict.annotation.empty()) verdict.annotation = std::string(kAllowedDomainsAnnotation);
    return verdict;
}

}  // namespace

DnsResponder::DnsResponder(EventLoop& loop, ProxyContext& proxy, OnDecision on_decision, DnsLimits limits)
    : loop_(loop),
      proxy_(proxy),
      on_decision_(std::move(on_decision)),
      limits_(limits),
      bucket_(limits.queries_per_second, limits.burst) {}

DnsResponder::~DnsResponder() {
    // The refusals of a flood's last second were not logged yet.
    if (unlogged_refusals_) {
        DnsDecision summary;
        summary.rule = "dns-rate-limit";
        summary.error = std::to_string(unlogged_refusals_) + " rate-limited queries not logged";
        on_decision_(summary);
    }
    *alive_ = false;
}

void DnsResponder::add_socket(UniqueFd fd) {
    int flags = fcntl(fd.get(), F_GETFL);
    if (flags >= 0) fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK);
    sockets_.add(std::move(fd));
}

void DnsResponder::read_all(int fd) {
    for (int i = 0; i < kReadsPerWake; ++i) {
        uint8_t packet[1500];
        sockaddr_storage from{};
        socklen_t from_length = sizeof from;
        ssize_t n = ::recvfrom(fd, packet, sizeof packet, MSG_TRUNC, reinterpret_cast<sockaddr*>(&from), &from_length);
        if (n < 0) return;  // EAGAIN, or an ICMP error of an earlier reply
        SocketAddress client = SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&from), from_length);
        // A datagram larger than the buffer is not a query a stub sends.
        size_t size = static_cast<size_t>(n) > sizeof packet ? 0 : static_cast<size_t>(n);
        Query query = parse_query(packet, size);
        if (query.status == ParseStatus::ignore) continue;
        handle(fd, client, query);
    }
}

void DnsResponder::handle(int fd, const SocketAddress& client, const Query& query) {
    DnsDecision decision;
    decision.client = client.to_string();
    decision.family = client.family();
    decision.name = query.name;
    decision.type = query.status == ParseStatus::ok ? type_name(query.type) : "";

    auto now = std::chrono::steady_clock::now();
    if (!bucket_.take(now)) {
        Answer refused;
        refused.rcode = Rcode::refused;
        std::vector<uint8_t> bytes = build_response(query, refused);
        ::sendto(fd, bytes.data(), bytes.size(), MSG_DONTWAIT, client.get(), client.length);
        // One line a second at most: a flood must not become a flood of lines.
        if (now - last_limit_log_ < std::chrono::seconds(1)) {
            ++unlogged_refusals_;
            return;
        }
        last_limit_log_ = now;
        decision.rule = "dns-rate-limit";
        decision.error = "rate limit reached";
        if (unlogged_refusals_)
            decision.error += "; " + std::to_string(unlogged_refusals_) + " rate-limited queries not logged";
        unlogged_refusals_ = 0;
        on_decision_(decision);
        return;
    }

    Answer answer;
    answer.ttl = limits_.ttl_seconds;
    if (query.status != ParseStatus::ok) {
        decision.rule = query.status == ParseStatus::notimp ? "dns-opcode-not-implemented" : "dns-malformed-query";
        reply(fd, client, query, answer, std::move(decision));
        return;
    }
    if (query.klass != kClassIN || (query.type != kTypeA && query.type != kTypeAAAA)) {
        // TXT, ANY and the rest: only addresses are ever given out.
        answer.rcode = Rcode::refused;
        decision.rule = "dns-type-refused";
        reply(fd, client, query, answer, std::move(decision));
        return;
    }
    DestinationVerdict verdict = name_verdict(proxy_.policy, query.name);
    decision.rule = verdict.rule;
    decision.annotation = verdict.annotation;
    if (!verdict.allowed) {
        answer.rcode = Rcode::nxdomain;
        reply(fd, client, query, answer, std::move(decision));
        return;
    }
    decision.allowed = true;
    std::weak_ptr<bool> alive = alive_;
    proxy_.resolver.resolve(
        verdict.host, 0,
        [this, alive, fd, client, query, answer, decision](std::vector<SocketAddress> addresses) mutable {
            if (alive.expired() || !*alive.lock()) return;
            for (const SocketAddress& address : addresses) {
                // Only what the proxy would dial: a private address of an
                // allowlisted name is no use to the container and tells it
                // about the host's network.
                if (!proxy_.policy.upstream_address_allowed(address)) continue;
                if (address.family() == AF_INET && query.type == kTypeA) {
                    const auto* sin = reinterpret_cast<const sockaddr_in*>(address.get());
                    std::array<uint8_t, 4> bytes;
                    std::memcpy(bytes.data(), &sin->sin_addr, 4);
                    answer.a.push_back(bytes);
                } else if (address.family() == AF_INET6 && query.type == kTypeAAAA) {
                    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(address.get());
                    std::array<uint8_t, 16> bytes;
                    std::memcpy(bytes.data(), &sin6->sin6_addr, 16);
                    answer.aaaa.push_back(bytes);
                } else {
                    continue;
                }
                if (!decision.answer.empty()) decision.answer += ",";
                decision.answer += address.ip_string();
            }
            if (addresses.empty()) {
                answer.rcode = Rcode::nxdomain;
                decision.error = "resolve: no address";
            }
            reply(fd, client, query, answer, std::move(decision));
        });
}

void DnsResponder::reply(int fd, const SocketAddress& client, const Query& query, const Answer& answer,
                         DnsDecision decision) {
    std::vector<uint8_t> bytes = build_response(query, answer);
    if (!bytes.empty() && ::sendto(fd, bytes.data(), bytes.size(), MSG_DONTWAIT, client.get(), client.length) < 0 &&
        decision.error.empty())
        decision.error = std::string("send: ") + std::strerror(errno);
    on_decision_(decision);
}

}  // namespace tether::hooks::dns
