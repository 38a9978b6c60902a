// The run.tether.* annotation names other code refers to (in messages and
// decision-log lines: "the key that would allow a denied attempt"). The one
// table that parses them all is spec/policy.cpp's; these spell the same
// names once, so that a rename cannot leave a message behind.
#pragma once

namespace tether::spec::keys {

inline constexpr const char* kAllowLocalOutboundPorts = "run.tether.network.allowLocalOutboundPorts";
inline constexpr const char* kAllowedDomains = "run.tether.network.allowedDomains";
inline constexpr const char* kAllowedHosts = "run.tether.network.allowedHosts";
inline constexpr const char* kTransparent = "run.tether.network.transparent";
inline constexpr const char* kDeniedDomains = "run.tether.network.deniedDomains";
inline constexpr const char* kAllowBindPorts = "run.tether.network.allowBindPorts";
inline constexpr const char* kAllowDns = "run.tether.network.allowDNS";
inline constexpr const char* kAllowPrivateUpstreams = "run.tether.network.allowPrivateUpstreams";
inline constexpr const char* kBestEffort = "run.tether.sandbox.bestEffort";
inline constexpr const char* kLog = "run.tether.log";

}  // namespace tether::spec::keys
