// The sandbox policy: what a container that carries `run.tether.*` annotations
// may do. Parsed from three layers, each overriding the previous one key by
// key: the runtime's --default-policy file, the run.tether.policy file, and the
// annotations themselves. Pure: the caller reads files (read_file), so that
// every format rule is unit-tested without touching the disk.
//
// The reference for users is docs/annotations.md.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tether::spec {

// An inclusive TCP/UDP port range; a single port has first == last.
struct PortRange {
    std::uint16_t first = 0;
    std::uint16_t last = 0;
    bool contains(std::uint16_t port) const { return first <= port && port <= last; }
    bool operator==(const PortRange&) const = default;
};

// An address block such as 10.0.0.0/8 or fd00::/8 (host bits must be zero).
struct Cidr {
    int family = 0;                     // AF_INET or AF_INET6
    std::array<std::uint8_t, 16> address{};  // network byte order; IPv4 uses the first 4 bytes
    int prefix_length = 0;
    std::string text;                   // canonical form, e.g. "10.0.0.0/8"
};

enum class SandboxMode { enforce, audit };

// A run.tether.network.allowedHosts entry: "git.example.com:22", "[2001:db8::1]:5432".
struct HostPort {
    std::string host;  // a name (lower-case, no trailing dot) or an IP literal (no brackets)
    std::uint16_t port = 0;
    bool operator==(const HostPort&) const = default;
};

struct NetworkPolicy {
    // True when any run.tether.network.* key (or a "network" object in a policy
    // file) is present: networking becomes default-deny.
    bool enabled = false;
    std::vector<PortRange> allow_local_outbound_ports;
    std::vector<std::string> allowed_domains;  // lower-case, no trailing dot, "*.x.y" allowed
    std::vector<std::string> denied_domains;
    // Unset: the default of the network mode (any port on the container's own
    // loopback when it has its own network namespace, none on the host's).
    std::optional<std::vector<PortRange>> allow_bind_ports;
    bool allow_dns = false;
    std::vector<Cidr> allow_private_upstreams;
    // TCP that is not HTTP, to one port of one named host.
    std::vector<HostPort> allowed_hosts;
    // run.tether.network.transparent; unset: on (see transparent_egress()).
    std::optional<bool> transparent;

    // Transparent egress (issue 21): direct TCP connects go, through the
    // kernel, to the proxy, which checks their SNI or Host. On whenever
    // there is something to reach (allowedDomains or allowedHosts), unless
    // the policy or the administrator (AdminConfig::transparent_egress)
    // turns it off.
    bool transparent_egress() const {
        return transparent.value_or(true) && (!allowed_domains.empty() || !allowed_hosts.empty());
    }
};

struct FilesystemPolicy {
    // Absolute, normalized paths inside the container (no "..", no trailing "/").
    std::vector<std::string> allow_write;
    std::vector<std::string> deny_write;
    std::vector<std::string> deny_read;
    std::vector<std::string> allow_execute;
};

struct SandboxSettings {
    SandboxMode mode = SandboxMode::enforce;
    bool best_effort = false;
    // Unset: on when the container shares the host PID namespace.
    std::optional<bool> scope_signals;
    std::optional<std::string> log_path;  // absolute host path; unset: the state dir
};

struct SandboxPolicy {
    bool present = false;  // any layer contributed: the container is a sandbox
    NetworkPolicy network;
    FilesystemPolicy filesystem;
    SandboxSettings sandbox;

    // No run.tether.* annotation and no --default-policy: no sandbox, no cost.
    bool active() const { return present; }
    bool audit() const { return sandbox.mode == SandboxMode::audit; }

    // allow_bind_ports with the network-mode default resolved: all ports on an
    // own network namespace, none on the host's.
    std::vector<PortRange> effective_bind_ports(bool own_network_namespace) const;
    // scope_signals with its default resolved: on when the PID namespace is the host's.
    bool effective_scope_signals(bool shares_host_pid_namespace) const;
};

// Reads a file the policy refers to (run.tether.policy); throws on failure.
using PolicyFileReader = std::function<std::string(const std::string& path)>;

// Parses the sandbox policy. default_policy_json: the contents of the runtime's
// --default-policy file, if any. Throws ParseError naming the annotation (or
// the policy file and key) and the bad item, e.g.
//   run.tether.network.allowLocalOutboundPorts: "70000" is not a port (1-65535)
SandboxPolicy parse_policy(const std::map<std::string, std::string>& annotations,
                           const std::optional<std::string>& default_policy_json,
                           const PolicyFileReader& read_file);

// The same under an administrator's file (spec/admin_config.hpp): workload
// keys it does not list are refused, a run.tether.policy file must lie in
// its policy directories and run.tether.log in its log directories, and with
// a ceiling every workload setting must be within it. default_policy_json
// (--default-policy) replaces the file's defaultPolicy when given. The
// overload above is this one with no file (AdminConfig{}).
struct AdminConfig;
SandboxPolicy parse_policy(const std::map<std::string, std::string>& annotations,
                           const std::optional<std::string>& default_policy_json,
                           const PolicyFileReader& read_file, const AdminConfig& admin);

// Every run.tether.* annotation that can loosen a sandbox, for `features`
// (potentiallyUnsafeConfigAnnotations, runtime-spec 1.2): CRI runtimes can
// keep them away from workloads.
std::vector<std::string> loosening_annotations();

// The annotation prefix; every key under it must be known.
inline constexpr const char* kPolicyAnnotationPrefix = "run.tether.";

}  // namespace tether::spec
