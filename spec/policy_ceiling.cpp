#include "spec/policy_ceiling.hpp"

#include <algorithm>
#include <functional>

#include "spec/admin_config.hpp"
#include "spec/parse_error.hpp"

namespace tether::spec {
namespace {

template <typename T>
std::string joined(const std::vector<T>& items, const std::function<std::string(const T&)>& text) {
    if (items.empty()) return "(none)";
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ",") + text(item);
    return out;
}

std::string port_text(const PortRange& r) {
    return r.first == r.last ? std::to_string(r.first) : std::to_string(r.first) + "-" + std::to_string(r.last);
}
std::string ports_text(const std::vector<PortRange>& ranges) { return joined<PortRange>(ranges, port_text); }
std::string strings_text(const std::vector<std::string>& items) {
    return joined<std::string>(items, [](const std::string& s) { return s; });
}
std::string host_port_text(const HostPort& h) {
    return (h.host.find(':') != std::string::npos ? "[" + h.host + "]" : h.host) + ":" + std::to_string(h.port);
}
std::string cidrs_text(const std::vector<Cidr>& items) {
    return joined<Cidr>(items, [](const Cidr& c) { return c.text; });
}

// Every port of `range` is in some range of `ceiling`.
bool range_within(const PortRange& range, const std::vector<PortRange>& ceiling) {
    unsigned next = range.first;
    // Walk the range, jumping over each ceiling range that covers `next`.
    while (next <= range.last) {
        bool advanced = false;
        for (const auto& c : ceiling) {
            if (c.first <= next && next <= c.last) {
                next = unsigned{c.last} + 1;
                advanced = true;
                break;
            }
        }
        if (!advanced) return false;
    }
    return true;
}

// Every name `pattern` admits is admitted by `ceiling` (proxy semantics:
// "*.x.com" is x.com's subdomains, not x.com itself).
bool domain_within(const std::string& pattern, const std::string& ceiling) {
    const bool wild = pattern.starts_with("*.");
    if (!ceiling.starts_with("*.")) return !wild && pattern == ceiling;
    const std::string suffix = ceiling.substr(1);  // ".x.com"
    const std::string base = wild ? pattern.substr(1) : pattern;  // ".a.x.com" or "a.x.com"
    if (wild) return base == suffix || (base.size() > suffix.size() && base.ends_with(suffix));
    return base.size() > suffix.size() && base.ends_with(suffix);
}

bool cidr_within(const Cidr& inner, const Cidr& outer) {
    if (inner.family != outer.family || inner.prefix_length < outer.prefix_length) return false;
    for (int bit = 0; bit < outer.prefix_length; ++bit) {
        const auto mask = static_cast<std::uint8_t>(0x80 >> (bit % 8));
        if ((inner.address[bit / 8] & mask) != (outer.address[bit / 8] & mask)) return false;
    }
    return true;
}

[[noreturn]] void beyond(const std::string& label, const std::string& value, const std::string& ceiling,
                         const std::string& source) {
    throw ParseError(label + ": " + value + " is beyond the ceiling " + ceiling + " of " + source);
}

}  // namespace

void check_within_ceiling(const std::string& key, const std::string& label, const SandboxPolicy& value,
                          const SandboxPolicy& ceiling, const std::string& source) {
    const auto& net = value.network;
    const auto& top = ceiling.network;
    if (key == "network.allowLocalOutboundPorts") {
        for (const auto& r : net.allow_local_outbound_ports)
            if (!range_within(r, top.allow_local_outbound_ports))
                beyond(label, port_text(r), ports_text(top.allow_local_outbound_ports), source);
    } else if (key == "network.allowBindPorts") {
        const std::vector<PortRange> none;
        const auto& allowed = top.allow_bind_ports ? *top.allow_bind_ports : none;
        for (const auto& r : net.allow_bind_ports.value_or(none))
            if (!range_within(r, allowed)) beyond(label, port_text(r), ports_text(allowed), source);
    } else if (key == "network.allowedDomains") {
        for (const auto& d : net.allowed_domains)
            if (std::none_of(top.allowed_domains.begin(), top.allowed_domains.end(),
                             [&](const std::string& c) { return domain_within(d, c); }))
                beyond(label, d, strings_text(top.allowed_domains), source);
    } else if (key == "network.allowPrivateUpstreams") {
        for (const auto& c : net.allow_private_upstreams)
            if (std::none_of(top.allow_private_upstreams.begin(), top.allow_private_upstreams.end(),
                             [&](const Cidr& o) { return cidr_within(c, o); }))
                beyond(label, c.text, cidrs_text(top.allow_private_upstreams), source);
    } else if (key == "network.allowedHosts") {
        // Each entry must be in the ceiling's list, name and port alike.
        for (const auto& h : net.allowed_hosts)
            if (std::find(top.allowed_hosts.begin(), top.allowed_hosts.end(), h) == top.allowed_hosts.end())
                beyond(label, host_port_text(h),
                       joined<HostPort>(top.allowed_hosts, host_port_text), source);
    } else if (key == "network.transparent") {
        // Off narrows; on needs a ceiling that does not say false (on is the
        // default: the administrator's transparentEgress turns it off for all).
        if (net.transparent == true && top.transparent == false) beyond(label, "true", "false", source);
    } else if (key == "network.allowDNS") {
        if (net.allow_dns && !top.allow_dns) beyond(label, "true", "false", source);
    } else if (key == "filesystem.allowWrite") {
        for (const auto& p : value.filesystem.allow_write)
            if (!path_within(p, ceiling.filesystem.allow_write))
                beyond(label, p, strings_text(ceiling.filesystem.allow_write), source);
    } else if (key == "filesystem.allowExecute") {
        // An empty ceiling list is the default: the whole rootfs executable.
        if (ceiling.filesystem.allow_execute.empty()) return;
        for (const auto& p : value.filesystem.allow_execute)
            if (!path_within(p, ceiling.filesystem.allow_execute))
                beyond(label, p, strings_text(ceiling.filesystem.allow_execute), source);
    } else if (key == "sandbox.mode") {
        if (value.audit() && !ceiling.audit()) beyond(label, "audit", "enforce", source);
    } else if (key == "sandbox.bestEffort") {
        if (value.sandbox.best_effort && !ceiling.sandbox.best_effort) beyond(label, "true", "false", source);
    } else if (key == "sandbox.scopeSignals") {
        // Turning scoping off loosens; the ceiling allows it only by saying false itself.
        if (value.sandbox.scope_signals == false && ceiling.sandbox.scope_signals != false)
            beyond(label, "false", "true", source);
    }
    // deniedDomains, denyRead, denyWrite narrow; log and policy are checked
    // against the administrator's directories instead.
}

}  // namespace tether::spec
