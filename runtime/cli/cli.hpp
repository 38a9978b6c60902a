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
