// `create`: everything up to a container whose init blocks until `start`.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/cgroups/manager.hpp"
#include "runtime/core/unique_fd.hpp"

#include "runtime/lifecycle/bundle.hpp"
#include "runtime/lifecycle/sandbox_setup.hpp"
#include "runtime/lifecycle/state_store.hpp"

namespace tether {

struct CreateOptions {
    std::string id;
    std::string bundle;
    std::string pid_file;
    std::string console_socket;
    int preserve_fds = 0;
    bool no_pivot = false;
    bool no_new_keyring = false;
    bool detach_from_init = true;  // false for `run`: we stay the init's parent and wait
    std::string default_policy;    // --default-policy FILE ("" = none)
    std::string admin_config;      // --admin-config FILE ("" = /etc/tether/admin.json if present)
    ProxyTimeoutFlags proxy_timeouts;  // --proxy-*-timeout, passed on to tether-netd
    bool systemd_cgroup = false;   // --systemd-cgroup: the cgroup is a systemd scope unit
    // `run`: start follows at once in this process. create keeps the state
    // directory locked and hands back what start and delete would otherwise
    // read back from it; state.json keeps "creating" until start saves
    // "running" (the status there is informational: every verb asks the
    // live system, live_status).
    bool start_at_once = false;
};

// `start` and the init, for a container started at once (`run`): pipes
// where `create` alone makes exec.fifo and start.fifo in the state directory.
struct StartChannels {
    UniqueFd release;  // write one byte: the init goes on
    UniqueFd status;   // EOF when the init execs; a startContainer failure's message
};

struct CreatedContainer {
    pid_t init_pid = 0;
    int init_pidfd = -1;  // owned by the caller when detach_from_init is false
    // With start_at_once only: the locked state directory, the state as
    // saved, the hooks of the config as created, and the cgroup manager.
    std::optional<ContainerDir> dir;
    spec::StoredState state;
    std::vector<spec::Hook> poststart;
    std::vector<spec::Hook> poststop;
    std::unique_ptr<cgroups::CgroupManager> cgroup;
    StartChannels start_channels;
};

CreatedContainer create_container(const StateStore& store, const CreateOptions& options);
// The same, with options.bundle already loaded by the caller (`run` reads it
// first for process.terminal: one parse, not two).
CreatedContainer create_container(const StateStore& store, const CreateOptions& options, Bundle bundle);

// The OCI state document of a stored state with its live status.
std::string state_json_for_hooks(const spec::StoredState& state, const char* status);

// The status every hook before the process runs gets on stdin: prestart,
// createRuntime, createContainer and startContainer. runtime-spec: "creating"
// is lifecycle step 2 (the environment being built), "created" is after step
// 2 until the process runs; these hooks are steps 3, 4, 5 and 7. crun and the
// runtime-tools validation say "created"; runc 1.1 says "creating" for the
// first three (docs/architecture.md, "Hooks").
inline constexpr const char* kHookStatusAfterEnvironment = "created";

}  // namespace tether
