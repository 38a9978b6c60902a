#include "hooks/proxy/destination_policy.hpp"

#include <cstring>

#include "hooks/proxy/domain_rules.hpp"
#include "runtime/core/error.hpp"

namespace tether::hooks {

namespace {

std::string_view strip_brackets(std::string_view host) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
    return host;
}

std::string strip_brackets_copy(std::string_view host) { return std::string(strip_brackets(host)); }

SocketAddress without_mapping(const SocketAddress& a) {
    if (auto v4 = embedded_ipv4(a)) return *v4;
    return a;
}

}  // namespace

std::string DestinationVerdict::explanation() const {
    if (allowed) return "allowed by " + rule;
    std::string text = "tether egress proxy: " + host + " denied by rule " + rule;
    if (!annotation.empty()) text += "; to allow it, add it to the annotation " + annotation;
    return text + "\n";
}

DestinationPolicy::DestinationPolicy(const ProxyConfig& config) {
    auto add_patterns = [](const std::vector<std::string>& in, std::vector<std::string>& out,
                           std::vector<Cidr>* literals, const char* field) {
        for (const auto& pattern : in) {
            if (literals) {
                if (auto cidr = Cidr::parse(strip_brackets(pattern))) {
                    literals->push_back(*cidr);
                    continue;
                }
            }
            auto normalized = normalize_domain_pattern(pattern);
            if (!normalized) throw Error(std::string("egress proxy: invalid domain pattern in ") + field + ": " + pattern);
            out.push_back(*normalized);
        }
    };
    add_patterns(config.allowed_domains, allowed_, &allowed_literals_, "allowedDomains");
    add_patterns(config.denied_domains, denied_, nullptr, "deniedDomains");
    for (const auto& literal : config.allowed_ip_literals) {
        auto cidr = Cidr::parse(strip_brackets(literal));
        if (!cidr) throw Error("egress proxy: invalid IP literal: " + literal);
        allowed_literals_.push_back(*cidr);
    }
    for (const auto& entry : config.allowed_hosts) {
        HostPort normalized{strip_brackets_copy(entry.host), entry.port};
        if (!SocketAddress::parse_ip(normalized.host, entry.port)) {
            auto name = normalize_host_name(normalized.host);
            if (!name) throw Error("egress proxy: invalid host name in allowedHosts: " + entry.host);
            normalized.host = *name;
        }
        allowed_hosts_.push_back(std::move(normalized));
    }
    for (const auto& text : config.allow_private_upstreams) {
        auto cidr = Cidr::parse(text);
        if (!cidr) throw Error("egress proxy: invalid CIDR in allowPrivateUpstreams: " + text);
        private_allowed_.push_back(*cidr);
    }
}

DestinationVerdict DestinationPolicy::check_host(std::string_view raw_host, uint16_t port) const {
    DestinationVerdict verdict;
    std::string_view host = strip_brackets(raw_host);
    if (auto literal = SocketAddress::parse_ip(host, port)) {
        // An IP literal skips every name rule, so it is allowed only when listed.
        verdict.host = literal->ip_string();
        verdict.literal = literal;
        for (const auto& cidr : allowed_literals_) {
            if (cidr.contains(*literal)) {
                verdict.allowed = true;
                verdict.rule = "allowedDomains:ip-literal";
                return verdict;
            }
        }
        if (listed_host(verdict.host, port, verdict)) return verdict;
        verdict.rule = "ip-literal-not-listed";
        verdict.annotation = std::string(kAllowedDomainsAnnotation);
        return verdict;
    }
    auto name = normalize_host_name(host);
    if (!name) {
        verdict.host = std::string(host);
        verdict.rule = "invalid-host-name";
        return verdict;
    }
    verdict.host = *name;
    DomainVerdict domain = match_domain(*name, allowed_, denied_);
    // allowedHosts admits its name on its port; deniedDomains still wins.
    if (!domain.allowed && domain.rule.rfind("deniedDomains:", 0) != 0 && listed_host(*name, port, verdict))
        return verdict;
    verdict.allowed = domain.allowed;
    verdict.rule = domain.rule;
    if (!domain.allowed)
        verdict.annotation = std::string(domain.rule.rfind("deniedDomains:", 0) == 0 ? kDeniedDomainsAnnotation
                                                                                      : kAllowedDomainsAnnotation);
    return verdict;
}

bool DestinationPolicy::listed_host(const std::string& host, uint16_t port, DestinationVerdict& verdict) const {
    for (const auto& entry : allowed_hosts_) {
        if (entry.port != port || entry.host != host) continue;
        verdict.allowed = true;
        verdict.rule = "allowedHosts:" + entry.host + ":" + std::to_string(entry.port);
        verdict.annotation.clear();
        return true;
    }
    return false;
}

bool same_ip(const SocketAddress& a, const SocketAddress& b) {
    SocketAddress x = without_mapping(a), y = without_mapping(b);
    if (x.family() != y.family()) return false;
    if (x.family() == AF_INET)
        return reinterpret_cast<const sockaddr_in*>(&x.storage)->sin_addr.s_addr ==
               reinterpret_cast<const sockaddr_in*>(&y.storage)->sin_addr.s_addr;
    return std::memcmp(&reinterpret_cast<const sockaddr_in6*>(&x.storage)->sin6_addr,
                       &reinterpret_cast<const sockaddr_in6*>(&y.storage)->sin6_addr, 16) == 0;
}

DestinationVerdict DestinationPolicy::confirm_original(DestinationVerdict verdict, const SocketAddress& original,
                                                       const std::vector<SocketAddress>& resolved) const {
    if (!verdict.allowed) return verdict;
    bool listed = false;
    for (const auto& address : resolved) listed = listed || same_ip(address, original);
    if (!listed) {
        // The name is allowed, the address is not one of its own: the
        // client meant some other server (domain fronting, a lying Host).
        verdict.allowed = false;
        verdict.rule = "name-not-at-destination:" + original.ip_string();
        verdict.annotation = std::string(kAllowedDomainsAnnotation);
        return verdict;
    }
    if (!upstream_address_allowed(original)) {
        verdict.allowed = false;
        verdict.rule = "private-address:" + std::string(address_class_name(classify_address(original))) + ":" +
                       original.ip_string();
        verdict.annotation = std::string(kAllowPrivateAnnotation);
        return verdict;
    }
    verdict.address = original;
    return verdict;
}

bool DestinationPolicy::upstream_address_allowed(const SocketAddress& address) const {
    if (classify_address(address) == AddressClass::public_unicast) return true;
    for (const auto& cidr : private_allowed_)
        if (cidr.contains(address)) return true;
    return false;
}

DestinationVerdict DestinationPolicy::choose_address(DestinationVerdict verdict,
                                                     const std::vector<SocketAddress>& addresses) const {
    if (!verdict.allowed) return verdict;
    for (const auto& address : addresses) {
        if (upstream_address_allowed(address)) {
            verdict.address = address;
            return verdict;
        }
    }
    verdict.allowed = false;
    if (addresses.empty()) {
        verdict.rule = "no-address";
        verdict.annotation.clear();
    } else {
        // Report the first refused address: usually the only one.
        verdict.rule = "private-address:" + std::string(address_class_name(classify_address(addresses.front()))) +
                       ":" + addresses.front().ip_string();
        verdict.annotation = std::string(kAllowPrivateAnnotation);
    }
    return verdict;
}

}  // namespace tether::hooks
