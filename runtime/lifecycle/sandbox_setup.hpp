// Turning a container into a sandbox (DESIGN.md, "Sandbox").
//
// prepare_sandbox runs in `create`'s parent before anything exists: it reads
// the policy (run.tether.* annotations over --default-policy), and when there
// is one it rewrites the config so the ordinary machinery enforces it:
//   - no_new_privs is forced (setuid binaries gain nothing in a sandbox);
//   - denyRead paths become masked paths and denyWrite paths read-only
//     binds: Landlock can only grant, never carve a hole, and masks also hold
//     on kernels without Landlock;
//   - with a network policy, tether-netd (supervisor, bridge, proxy) is put
//     first among the prestart hooks.
// It refuses what cannot be enforced before the container exists: a profile
// of the config's own that uses SCMP_ACT_NOTIFY together with a network
// policy (a filter chain carries one listener), and Landlock features the
// kernel lacks unless bestEffort.
//
// apply_sandbox_in_init applies it in the init and in `exec`'s child
// (ProcessSetup::apply_sandbox): Landlock, the static seccomp closures, then
// the notify filter whose listener goes to the daemon through the parent.
// When, and why then: docs/architecture.md, "The privileged order", 15c.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "runtime/linux/namespaces.hpp"
#include "runtime/linux/sync_channel.hpp"
#include "runtime/sandbox/landlock.hpp"
#include "runtime/sandbox/seccomp_program.hpp"
#include "spec/config.hpp"
#include "spec/policy.hpp"

namespace tether {

struct SandboxFilters {
    sandbox::SeccompProgram closures;
    sandbox::SeccompProgram notify;  // empty unless supervised
};

struct SandboxSetup {
    spec::SandboxPolicy policy;
    bool supervised = false;  // a network policy: tether-netd (and the notify filter unless kernel_enforced)
    // tether-netd attached the cgroup socket programs (hooks/bpf): the kernel
    // decides every inet call, so no notify filter is loaded and no socket
    // call is trapped. Learnt from the daemon after the prestart hooks.
    bool kernel_enforced = false;
    sandbox::LandlockInputs landlock_inputs;
    std::string netd_path;
    std::string admin_config_path;  // the administrator's file read, "" when none
    // The compiled seccomp programs, from the cache of the state root (or
    // compiled and stored there); none when the cache is off or unusable.
    std::optional<SandboxFilters> filters;
};

// tether's --proxy-request-head-timeout and --proxy-idle-timeout (or their
// environment variables) as given; "" leaves tether-netd's default. The
// administrator's, never the config's: prepare_sandbox checks them for every
// container and passes them on to tether-netd.
struct ProxyTimeoutFlags {
    std::string request_head;
    std::string idle;
};

// admin_config_path: the administrator's file (spec/admin_config.hpp); ""
// reads /etc/tether/admin.json when it exists.
std::optional<SandboxSetup> prepare_sandbox(spec::Config& config, const os::NamespacePlan& namespaces,
                                            const std::string& state_dir, const std::string& default_policy_path,
                                            const std::string& admin_config_path = "",
                                            const ProxyTimeoutFlags& proxy_timeouts = {});

// The sandbox's seccomp programs (closures, and the notify filter when
// supervised), compiled but not loaded. Compiling costs 3.3 ms in a fresh
// process (libseccomp): prepare_sandbox takes them from the state root's
// cache (runtime/sandbox/seccomp_cache.hpp); without one the init compiles
// them while the parent runs the prestart hooks.
SandboxFilters compile_sandbox_filters(const SandboxSetup& setup);

// In the init: Landlock, closures, notify filter (handed over on channel).
// `compiled`: the programs from compile_sandbox_filters(), else they are
// compiled here.
void apply_sandbox_in_init(const SandboxSetup& setup, std::optional<uint16_t> proxy_port, os::SyncChannel& channel,
                           const SandboxFilters* compiled = nullptr);

// Where tether-netd is: $TETHER_NETD, next to the tether binary, or
// ../libexec/tether/ relative to it.
std::string find_netd_binary();

}  // namespace tether
