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

private:
    std::vector<std::string> allowed_;
    std::vector<std::string> denied_;
    std::vector<Cidr> allowed_literals_;
    std::vector<Cidr> private_allowed_;
};

}  // namespace tether::hooks
