// `exec`: a new process in a running container.
//
// The parent (tether) enters the init's pid (and time) namespace for its
// children only, clones the child, puts it in the container's cgroup and
// lets it go. The child joins every other namespace of the init with one
// setns(pidfd) (user first, atomically), sets up the terminal, and then goes
// through the same ProcessSetup phases as the init before it execs (the
// order and why: docs/architecture.md, "The privileged order"). Until exec
// it is non-dumpable, so the container cannot reach into it through
// /proc/<pid> (CVE-2019-5736, CVE-2016-9962).
#pragma once

#include <string>
#include <vector>

#include "runtime/lifecycle/state_store.hpp"

namespace tether {

// runc exec's flags that shape the process when no --process file is given.
// Without a file the base is the container's own process from config.json.
struct ExecProcessFlags {
    std::vector<std::string> args;
    bool tty = false;
    std::string cwd;
    std::vector<std::string> env;          // KEY=VALUE, replacing KEY
    std::string user;                      // "uid" or "uid:gid"
    std::vector<uint32_t> additional_gids;
    std::vector<std::string> caps;         // added to bounding, effective, permitted
    bool no_new_privs = false;
    std::string process_label;
    std::string apparmor;
};

struct ExecOptions {
    std::string id;
    std::string process_file;  // --process: a runtime-spec process.json
    ExecProcessFlags flags;
    std::string pid_file;
    std::string console_socket;
    bool detach = false;
    int preserve_fds = 0;
    std::string default_policy;  // --default-policy FILE: the sandbox policy under the annotations
    std::string admin_config;    // --admin-config FILE ("" = /etc/tether/admin.json if present)
};

// Starts the process; without detach waits and returns its exit code
// (128+signal if killed), with detach writes the pid file and returns 0.
int exec_in_container(const StateStore& store, const ExecOptions& options);

}  // namespace tether
