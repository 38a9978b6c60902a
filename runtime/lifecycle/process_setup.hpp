// The process-security phases of a container process (the init and exec's
// child), each a method, called in the order docs/architecture.md ("The
// privileged order") gives and why. Both callers list the phases in their
// own step list (container_init.cpp, exec.cpp); ProcessSetup refuses a phase
// called out of order, so a step moved in one list and not the other fails
// every test through it instead of weakening one path quietly.
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
    // applied in apply_sandbox. `compiled`: its seccomp programs, if
    // compiled ahead (may be null).
    void set_sandbox(const SandboxSetup* sandbox, std::optional<uint16_t> proxy_port,
                     const SandboxFilters* compiled = nullptr) {
        sandbox_ = sandbox;
        proxy_port_ = proxy_port;
        compiled_filters_ = compiled;
    }

    // The phases, in this order (each once):
    // rlimits, oomScoreAdj, personality, session keyring, no_new_privs when
    // asked. procfs: the runtime's own handle (oomScoreAdj is written there,
    // never through the container's /proc: runtime/security/procfs.hpp);
    // needed only with process.oomScoreAdj, else nullptr.
    void before_credentials(const security::ProcFs* procfs);
    // The sandbox (none: nothing): Landlock, the seccomp closures, the notify
    // filter whose listener number goes to the parent on `channel`.
    void apply_sandbox(os::SyncChannel& channel);
    // The config's seccomp profile, unless noNewPrivileges lets it wait for
    // load_filters_late (a SCMP_ACT_NOTIFY profile never waits: its listener
    // must reach the parent before `create` returns).
    void load_filters_with_privileges(os::SyncChannel& channel);
    // Bounding set, keep-caps, setgroups/setgid/setuid, the final capability
    // sets, umask.
    void switch_credentials();
    // The profile that waited, as late as possible before execve.
    void load_filters_late();

private:
    enum class Phase { planned, before_credentials, sandbox, filters_with_privileges, credentials, filters_late };
    void enter(Phase next);
    void load_config_seccomp(os::SyncChannel* channel);

    Phase phase_ = Phase::planned;

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
