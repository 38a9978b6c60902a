// Landlock for a sandboxed container: what the policy asks for, turned into a
// ruleset for the kernel's Landlock ABI (plan_landlock, pure), then enforced
// on the calling process (apply_landlock).
//
// The runtime calls, in the container's init after pivot_root and after the
// masks / read-only binds of denyRead / denyWrite, and after no_new_privs:
//
//   const int abi = sandbox::landlock_abi(sandbox::parse_test_landlock_abi(
//       getenv("TETHER_TEST_LANDLOCK_ABI")));   // the RUNTIME's environment
//   auto plan = sandbox::plan_landlock(policy, inputs_with(abi));
//   sandbox::require_landlock_features(plan, policy.sandbox.best_effort);  // before anything runs
//   log(plan.notes); sandbox::apply_landlock(plan);
//
// `exec` does the same in the process it starts: it gets its own Landlock
// domain, a sibling of the init's (see docs/annotations.md, "exec").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "spec/policy.hpp"

namespace tether::sandbox {

// The highest Landlock ABI of the running kernel; 0 when Landlock is not built
// in or not enabled (ENOSYS / EOPNOTSUPP).
int kernel_landlock_abi();

// The ABI to plan for: the kernel's, lowered to pretend_at_most when given, so
// that tests can exercise the downgrade paths on a new kernel.
int landlock_abi(std::optional<int> pretend_at_most = std::nullopt);

// Parses the value of TETHER_TEST_LANDLOCK_ABI (a decimal 0-99). nullptr or ""
// means unset; anything else throws tether::Error naming the variable.
std::optional<int> parse_test_landlock_abi(const char* value);

// What the runtime knows about the container, beyond the policy.
struct LandlockInputs {
    int abi = 0;                          // from landlock_abi()
    bool rootfs_writable = false;         // !root.readonly
    // Destinations (inside the container) of the mounts that are writable:
    // tmpfs /dev, /dev/shm, /tmp, rw bind mounts... The rootfs itself is
    // rootfs_writable, not an entry here.
    std::vector<std::string> writable_mounts;
    bool own_network_namespace = true;    // false: the container shares the host's
    bool shares_host_pid_namespace = false;
    std::optional<std::uint16_t> proxy_port;  // the egress proxy, when there is one
    std::optional<std::uint16_t> dns_port;    // the resolver's port, when allowDNS
    // The cgroup socket programs decide connects and binds (hooks/bpf):
    // Landlock handles no network access then. Its port rules cannot tell
    // the container's own loopback from the host's or a remote address, so
    // on calls the container really makes they would refuse what the policy
    // allows (its own servers) and answer EACCES where the policy promises
    // ECONNREFUSED.
    bool network_in_kernel = false;
};

struct LandlockPathRule {
    std::string path;             // inside the container
    std::uint64_t allowed_access = 0;
    std::string reason;           // "rootfs", "writable mount", "allowWrite", "allowExecute"
};

struct LandlockPortRule {
    std::uint16_t port = 0;
    std::uint64_t allowed_access = 0;  // LANDLOCK_ACCESS_NET_{BIND,CONNECT}_TCP
};

struct LandlockPlan {
    bool apply = false;  // false in audit mode and when the kernel has no Landlock
    int abi = 0;
    std::uint64_t handled_access_fs = 0;
    std::uint64_t handled_access_net = 0;
    std::uint64_t scoped = 0;
    std::uint32_t restrict_flags = 0;
    std::vector<LandlockPathRule> path_rules;
    std::vector<LandlockPortRule> port_rules;
    // What the policy needs that the ABI lacks, one sentence each, e.g.
    // "TCP port rules (run.tether.network.*) need Landlock ABI 4, kernel has ABI 3".
    std::vector<std::string> missing_features;
    // Downgrades and choices worth a line in the decision log.
    std::vector<std::string> notes;
};

// Pure: decides the ruleset. Filesystem: the whole rootfs readable (and
// executable unless allowExecute lists where execution is allowed); writable
// where the container's mounts are writable plus allowWrite (a non-empty
// allowWrite confines writes to it and the writable mounts, even on a writable
// rootfs). TCP (ABI >= 4, when the policy has network keys): connect only to
// allowLocalOutboundPorts, the proxy port and the DNS port; bind per
// allowBindPorts. Scopes (ABI >= 6): abstract unix sockets always, signals per
// scopeSignals.
LandlockPlan plan_landlock(const spec::SandboxPolicy& policy, const LandlockInputs& inputs);

// Throws tether::Error listing plan.missing_features unless best_effort (or
// nothing is missing). Call it before the container can run anything.
void require_landlock_features(const LandlockPlan& plan, bool best_effort);

// Creates the ruleset, opens every path rule O_PATH (in the current root: call
// after pivot_root), adds the rules and restricts the calling thread. Needs
// no_new_privs or CAP_SYS_ADMIN. Does nothing when !plan.apply. Throws
// tether::Error naming the path or syscall that failed.
void apply_landlock(const LandlockPlan& plan);

}  // namespace tether::sandbox
