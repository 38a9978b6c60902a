// The process-security steps of the init, in one ordered place.
//
// Order (runc's, and DESIGN.md's):
//   before_credentials   rlimits, oomScoreAdj, personality, session keyring,
//                        sysctl, no_new_privs when asked
//   load_filters_with_privileges
//                        seccomp while the init still holds CAP_SYS_ADMIN
//                        (without no_new_privs an unprivileged process may
//                        not load a filter: podman sends no noNewPrivileges);
//                        a SCMP_ACT_NOTIFY profile hands its listener to the
//                        parent here, before `create` returns
//   switch_credentials   bounding set, keep-caps, setgroups/setgid/setuid,
//                        the final capability sets, umask
//   load_filters_late    with noNewPrivileges: the seccomp profile, as late
//                        as possible, so it constrains as few of our own
//                        syscalls as possible
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "runtime/linux/namespaces.hpp"
#include "runtime/linux/sync_channel.hpp"
#include "runtime/security/procfs.hpp"
#include "spec/config.hpp"

namespace tether {

struct SandboxSetup;
struct SandboxFilters;

// The init's and an exec child's warnings die with them (they exec, their
// log lines are never flushed): create and exec plan the capabilities and
// translate the seccomp profile in the runtime as well, so skipped
// capabilities and syscall names reach --log, and a profile libseccomp
// refuses fails the verb before any process exists.
void preflight_process_security(const spec::Config& config);

class ProcessSetup {
public:
    ProcessSetup(std::string container_id, const spec::Config& config, const os::NamespacePlan& namespaces,
                 bool no_new_keyring);
    ~ProcessSetup();

    // A sandboxed container: Landlock, closures and the notify filter are
    // applied first in load_filters_with_privileges.
    // `compiled`: its seccomp programs, if compiled ahead (may be null).
    void set_sandbox(const SandboxSetup* sandbox, std::optional<uint16_t> proxy_port,
                     const SandboxFilters* compiled = nullptr) {
        sandbox_ = sandbox;
        proxy_port_ = proxy_port;
        compiled_filters_ = compiled;
    }

    // procfs: the runtime's own handle (oomScoreAdj is written there, never
    // through the container's /proc: runtime/security/procfs.hpp).
    void before_credentials(const security::ProcFs& procfs);
    void load_filters_with_privileges(os::SyncChannel& channel);
    void switch_credentials();
    void load_filters_late();

private:
    void load_config_seccomp(os::SyncChannel* channel);

    std::string container_id_;
    const spec::Config& config_;
    const spec::Process& process_;
    const os::NamespacePlan& namespaces_;
    bool no_new_keyring_;
    bool seccomp_loaded_ = false;
    const SandboxSetup* sandbox_ = nullptr;
    std::optional<uint16_t> proxy_port_;
    const SandboxFilters* compiled_filters_ = nullptr;
    struct Plan;
    Plan* plan_;
};

}  // namespace tether
