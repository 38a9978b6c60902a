// tether-netd as an OCI prestart hook: read the state on stdin, start the
// per-container daemon in the background, return once it is ready.
//
// The daemon: own session, stdio on /dev/null, pid in <state dir>/netd.pid
// (written atomically), control socket <state dir>/netd.sock
// (hooks/protocol.hpp), decisions in <state dir>/decisions.jsonl. It exits
// when the container's init exits (pidfd), on STOP (delete), on SIGTERM, and
// when `create` fails (the runtime kills the init, or sends STOP): it never
// outlives its container.
#pragma once

#include <istream>
#include <string>

#include "hooks/proxy/proxy_config.hpp"

namespace tether::hooks {

struct HookOptions {
    // Where netd.sock / netd.pid go. Empty: /run/tether/<id> (tether's
    // default root); tether passes its --root's container dir explicitly.
    std::string state_dir;
    // The runtime's --default-policy file, if any.
    std::string default_policy_path;
    // The administrator's file tether read (spec/admin_config.hpp), if any.
    std::string admin_config_path;
    // "tether" when tether itself injected the hook (`--runtime tether`): then
    // a seccomp listener will arrive (LISTENER) and Landlock is applied, so
    // the policy is enforced. Empty: a plain OCI hook (podman hooks.d under
    // runc or crun), which cannot enforce; the hook refuses unless the policy
    // says run.tether.sandbox.bestEffort=true.
    std::string runtime;
    // --proxy-request-head-timeout, --proxy-idle-timeout: the administrator's
    // (tether passes its own flags of the same names), never the policy's.
    hooks::ProxyTimeouts proxy_timeouts;
};

inline constexpr const char* kEnforcingRuntime = "tether";

// Returns the hook's exit status (0: the daemon is ready). Errors go to
// stderr, where the runtime reports them as the hook's failure.
int run_prestart_hook(const HookOptions& options, std::istream& state_json);

}  // namespace tether::hooks
