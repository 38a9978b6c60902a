// The proxy's decisions, as data: may this name be asked for, and which of its
// resolved addresses may be dialled. The proxy dials exactly the address
// returned here, so a second, attacker-controlled lookup (DNS rebinding) never
// happens between the check and the connect. Pure; unit-tested.
#pragma once

#include "spec/annotation_keys.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hooks/proxy/address_class.hpp"
#include "hooks/proxy/proxy_config.hpp"

namespace tether::hooks {

inline constexpr std::string_view kAllowedDomainsAnnotation = spec::keys::kAllowedDomains;
inline constexpr std::string_view kDeniedDomainsAnnotation = spec::keys::kDeniedDomains;
inline constexpr std::string_view kAllowPrivateAnnotation = spec::keys::kAllowPrivateUpstreams;
inline constexpr std::string_view kAllowedHostsAnnotation = spec::keys::kAllowedHosts;

struct DestinationVerdict {
    bool allowed = false;
    std::string host;        // normalized name or IP literal
    std::string rule;
    std::string annotation;  // what would allow it, when denied
    std::optional<SocketAddress> literal;  // set when host is an IP literal
    std::optional<SocketAddress> address;  // the address to dial (after choose_address)

    // The body of a 403 / the reason in the log: which rule blocked which name.
    std::string explanation() const;
};

class DestinationPolicy {
public:
    explicit DestinationPolicy(const ProxyConfig& config);  // throws Error on a bad pattern or CIDR

    // Before resolution: the name (or literal) against the domain rules.
    DestinationVerdict check_host(std::string_view host, uint16_t port) const;
    // After resolution: the first address that is public or inside
    // allowPrivateUpstreams; denied when there is none.
    DestinationVerdict choose_address(DestinationVerdict verdict, const std::vector<SocketAddress>& addresses) const;
    bool upstream_address_allowed(const SocketAddress& address) const;

    // Transparent egress: `verdict` (from check_host) holds for `original`,
    // the address the client really connected to, only if the host-side
    // resolution of the name includes it (else: domain fronting, or a Host
    // header naming another server) and it is public or inside
    // allowPrivateUpstreams. The address to dial is then `original` itself.
    DestinationVerdict confirm_original(DestinationVerdict verdict, const SocketAddress& original,
                                        const std::vector<SocketAddress>& resolved) const;

    // allowedHosts, names normalised.
    const std::vector<HostPort>& allowed_hosts() const { return allowed_hosts_; }

private:
    // Sets `verdict` allowed by the allowedHosts entry for host:port, if any.
    bool listed_host(const std::string& host, uint16_t port, DestinationVerdict& verdict) const;

    std::vector<std::string> allowed_;
    std::vector<std::string> denied_;
    std::vector<Cidr> allowed_literals_;
    std::vector<Cidr> private_allowed_;
    std::vector<HostPort> allowed_hosts_;
};

// The same IP (ports ignored), IPv4-mapped and IPv4 being one.
bool same_ip(const SocketAddress& a, const SocketAddress& b);

}  // namespace tether::hooks
