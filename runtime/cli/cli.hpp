// The command line: runc's verbs, flags and output, so podman, containerd,
// Docker and CI systems can use tether unchanged. main.cpp owns the global
// flags and error reporting; each verb lives in its own file and only parses
// its flags and calls into runtime/lifecycle.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

#include "runtime/lifecycle/state_store.hpp"

namespace tether::cli {

struct GlobalOptions {
    std::string root = default_state_root;
    std::string log_path;
    std::string log_format = "text";
    bool debug = false;
    bool systemd_cgroup = false;
    std::string rootless = "auto";
    std::string default_policy;
    std::string admin_config;  // "" = /etc/tether/admin.json when it exists
    std::string proxy_request_head_timeout;  // also $TETHER_PROXY_REQUEST_HEAD_TIMEOUT
    std::string proxy_idle_timeout;          // also $TETHER_PROXY_IDLE_TIMEOUT

    StateStore store() const { return StateStore(root); }
};

// What the chosen verb does once the whole command line is parsed; its
// return value is the process exit code.
using Action = std::function<int()>;

// A verb whose one argument is the container id (start, state, pause,
// resume): `name ID` runs run(store, id) once the whole command line is
// parsed, so that --root is known (runtime/cli/id_verb.cpp).
using IdVerb = std::function<void(const StateStore& store, const std::string& id)>;
void add_id_verb(CLI::App& app, const GlobalOptions& global, Action& action, const std::string& name,
                 const std::string& description, IdVerb run);

// One registration function per verb (runtime/cli/<verb>.cpp).
void add_create(CLI::App& app, const GlobalOptions& global, Action& action);
void add_start(CLI::App& app, const GlobalOptions& global, Action& action);
void add_state(CLI::App& app, const GlobalOptions& global, Action& action);
void add_kill(CLI::App& app, const GlobalOptions& global, Action& action);
void add_delete(CLI::App& app, const GlobalOptions& global, Action& action);
void add_run(CLI::App& app, const GlobalOptions& global, Action& action);
void add_list(CLI::App& app, const GlobalOptions& global, Action& action);
void add_spec(CLI::App& app, const GlobalOptions& global, Action& action);
void add_features(CLI::App& app, const GlobalOptions& global, Action& action);
void add_exec(CLI::App& app, const GlobalOptions& global, Action& action);
void add_ps(CLI::App& app, const GlobalOptions& global, Action& action);
void add_pause(CLI::App& app, const GlobalOptions& global, Action& action);
void add_resume(CLI::App& app, const GlobalOptions& global, Action& action);
void add_update(CLI::App& app, const GlobalOptions& global, Action& action);
void add_events(CLI::App& app, const GlobalOptions& global, Action& action);

}  // namespace tether::cli
