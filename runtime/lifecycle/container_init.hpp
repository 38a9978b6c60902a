// The container init: the child that `create` clones into the new namespaces.
// It shares nothing with the parent but a copy of this context (fork
// semantics: no re-exec of /proc/self/exe, so there is no runtime binary for
// the container to overwrite, CVE-2019-5736), the sync channel and the
// exec.fifo fd it blocks on until `start`.
#pragma once

#include <string>
#include <vector>

#include "runtime/cgroups/self_join.hpp"
#include "runtime/core/unique_fd.hpp"
#include "runtime/linux/namespaces.hpp"
#include "runtime/linux/rootfs.hpp"
#include "runtime/linux/sync_channel.hpp"
#include "spec/config.hpp"

namespace tether {

struct InitContext {
    std::string container_id;
    const spec::Config* config = nullptr;
    os::NamespacePlan* namespaces = nullptr;
    os::RootfsContext rootfs;
    os::SyncChannel channel;   // the init's end
    UniqueFd exec_fifo;        // O_RDWR on <state>/exec.fifo; a read blocks until start writes
    // create cloned us with the rootfs as working directory, moved by clone
    // into our new mount namespace; we take it as "." and go back to the
    // runtime's working directory (an fd of create's, -1 when not done).
    int runtime_cwd = -1;
    // O_RDWR on <state>/start.fifo, close-on-exec: `start` reads it until
    // EOF (our exec); after `ready` our errors (a startContainer hook) go here.
    UniqueFd start_status;
    int preserve_fds = 0;
    bool no_pivot = false;
    bool no_new_keyring = false;
    bool wants_prestart_hooks = false;  // stop before pivot_root so the parent runs them
    // The only hook before the process is tether-netd's own prestart hook
    // (no prestart, createRuntime or createContainer hook of the config's)
    // and there is no terminal: the init asks for it, enters its rootfs and
    // only then waits for the answer (docs/architecture.md, "The privileged
    // order", step 9).
    bool only_netd_before_pivot = false;
    bool wait_for_start = true;         // false for `run`-style callers that start at once
    // A new cgroup namespace, made once the parent has put us in our cgroup
    // (not at clone: see run_container_init).
    bool unshare_cgroup_namespace = false;
    // Our new network namespace, made by create while it made the cgroups
    // (early_netns.hpp, lo up); -1: the clone made it (or none is wanted).
    int network_namespace = -1;
    // That namespace still being made at the clone: it comes attached to
    // `go`, which we then read before the first mount that needs it (sysfs).
    bool network_namespace_at_go = false;
    // The v1 cgroups we move ourselves into before anything else (and our
    // copy of the cgroup2 directory we were born in), opened by create.
    cgroups::SelfJoin* cgroup_join = nullptr;
    // The parent has something to do for us between `hello` and `go` (id
    // maps, a cgroup.procs write, the systemd scope): wait for `go` before
    // the setup. Otherwise we read it before the first other message.
    bool go_before_setup = true;
    // Where the init is in the hello/go exchange: a failure after hello
    // reads go first (report_failure says why).
    bool hello_sent = false;
    bool go_received = false;
    const struct SandboxSetup* sandbox = nullptr;  // set for a sandboxed container
    const os::MountPlan* mount_plan = nullptr;     // decided and checked by create
};

// Runs the init's ordered steps; never returns (execs the process or _exits).
[[noreturn]] void run_container_init(InitContext& context);

}  // namespace tether
