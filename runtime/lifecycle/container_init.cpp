#include "runtime/lifecycle/container_init.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <optional>

#include "runtime/core/error.hpp"
#include "runtime/linux/console.hpp"
#include "runtime/linux/exec_lookup.hpp"
#include "runtime/linux/hook_runner.hpp"
#include "runtime/lifecycle/launch.hpp"
#include "runtime/lifecycle/process_setup.hpp"
#include "runtime/lifecycle/sandbox_setup.hpp"
#include "runtime/linux/sync_messages.hpp"
#include "runtime/security/procfs.hpp"
#include "runtime/security/sysctl.hpp"

namespace tether {
namespace {

// No fd of the runtime may reach the container (containerd hands us its ttrpc
// socket as fd 3; a leaked directory fd would be a way out of the rootfs,
// CVE-2024-21626). Everything from 3 + preserve_fds up is closed at exec.
//
// The fds the parent held when it cloned us are closed at once, not only at
// exec: the state directory's fd carries the container's flock, and a copy
// held by the init would keep every later verb waiting for the lock.
void close_inherited_fds(const InitContext& context, int rootfs_dir) {
    std::vector<int> keep = {context.channel.fd(), context.exec_fifo.get(), rootfs_dir, context.start_status.get()};
    if (context.rootfs.bind_sources)
        for (int fd : *context.rootfs.bind_sources)
            if (fd >= 0) keep.push_back(fd);
    for (const auto& joined : context.namespaces->joins) keep.push_back(joined.fd.get());
    int first = 3 + context.preserve_fds;
    std::vector<int> inherited;
    if (DIR* dir = ::opendir("/proc/self/fd")) {
        int own = ::dirfd(dir);
        while (struct dirent* entry = ::readdir(dir)) {
            int fd = std::atoi(entry->d_name);
            if (entry->d_name[0] < '0' || entry->d_name[0] > '9' || fd == own || fd < first) continue;
            if (std::find(keep.begin(), keep.end(), fd) == keep.end()) inherited.push_back(fd);
        }
        ::closedir(dir);
    }
    for (int fd : inherited) ::close(fd);
    launch::mark_fds_for_exec(context.preserve_fds, keep);
}

// The rootfs as create found it, with the runtime's privileges: once we are
// the mapped root of a user namespace, a path through a directory we may not
// search (a 0700 parent of the bundle owned by host root) fails with EACCES.
// clone gave us create's working directory, the rootfs, already moved into
// our new mount namespace (an fd opened by create would stay in the host's,
// where we may not bind from). createContainer hooks get the runtime's
// working directory back.
UniqueFd take_rootfs_from_cwd(InitContext& context) {
    if (context.runtime_cwd < 0) return UniqueFd();
    UniqueFd rootfs(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!rootfs) throw_errno("open the rootfs " + context.rootfs.rootfs);
    if (::fchdir(context.runtime_cwd) != 0) throw_errno("chdir back to the runtime's working directory");
    context.rootfs.rootfs_fd = rootfs.get();
    return rootfs;
}

void set_hostnames(const spec::Config& config, const os::NamespacePlan& namespaces) {
    bool own_uts = namespaces.has(spec::NamespaceType::uts);
    if (!config.hostname.empty()) {
        if (!own_uts) throw Error("hostname: setting a hostname needs a UTS namespace");
        if (::sethostname(config.hostname.data(), config.hostname.size()) != 0) throw_errno("sethostname");
    }
    if (!config.domainname.empty()) {
        if (!own_uts) throw Error("domainname: setting a domainname needs a UTS namespace");
        if (::setdomainname(config.domainname.data(), config.domainname.size()) != 0) throw_errno("setdomainname");
    }
}

// The rootfs up to pivot_root, as create planned it (mount_plan.hpp).
// Returns the rootfs bound on itself (none without a mount namespace).
UniqueFd prepare_rootfs(InitContext& context, UniqueFd& rootfs_dir) {
    UniqueFd bound_rootfs;
    if (context.mount_plan->new_mount_namespace) {
        bound_rootfs = os::prepare_rootfs(*context.config, *context.mount_plan, context.rootfs);
        context.rootfs.rootfs_fd = -1;
        rootfs_dir.reset();
    }
    // The bind sources create opened for us are attached (or unused): close them.
    if (context.rootfs.bind_sources)
        for (int fd : *context.rootfs.bind_sources)
            if (fd >= 0) ::close(fd);
    context.rootfs.bind_sources = nullptr;
    return bound_rootfs;
}

// What the prestart hooks left us: tether-netd's answers (hooks_done), and
// the sandbox's seccomp programs, compiled while the hooks ran.
struct AfterPrestart {
    os::HooksDoneMessage netd;
    std::optional<SandboxFilters> compiled_filters;
};

// The parent runs prestart and createRuntime hooks once asked, with our
// mounts in place (a sandbox's tether-netd starts there, on the other CPU).
void ask_for_prestart_hooks(InitContext& context) {
    if (context.wants_prestart_hooks) context.channel.send(os::SyncType::hooks_needed);
}

AfterPrestart wait_for_prestart_hooks(InitContext& context) {
    AfterPrestart after;
    if (!context.wants_prestart_hooks) return after;
    // Meanwhile, compile the seccomp programs loaded later. A failure is left
    // to that later point, which compiles again and reports it in order.
    if (context.sandbox) {
        try {
            after.compiled_filters = compile_sandbox_filters(*context.sandbox);
        } catch (const std::exception&) {
            after.compiled_filters.reset();
        }
    }
    after.netd = os::expect_message<os::HooksDoneMessage>(context.channel);
    return after;
}

// createContainer hooks get the bundle as working directory, as crun does
// (runc gives the rootfs). The mapped root of a user namespace may not be
// allowed to enter it (a 0700 parent owned by host root): then the hook
// keeps ours, the runtime's working directory.
std::string create_container_hook_cwd(const std::string& bundle) {
    UniqueFd dir(::open(bundle.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir) return "";
    // O_PATH needs no search permission on the directory itself; fchdir does.
    if (::faccessat(dir.get(), ".", X_OK, AT_EACCESS) != 0) return "";
    return bundle;
}

void enter_rootfs(InitContext& context, UniqueFd& bound_rootfs, UniqueFd& rootfs_dir) {
    if (context.mount_plan->new_mount_namespace) {
        os::enter_rootfs(context.rootfs, bound_rootfs.get(), context.no_pivot);
    } else {
        os::enter_rootfs_without_mount_namespace(context.rootfs);
        rootfs_dir.reset();
    }
    bound_rootfs.reset();
}

void wait_for_start(int fifo_fd) {
    char byte;
    ssize_t n = retry_eintr([&] { return ::read(fifo_fd, &byte, 1); });
    if (n != 1) throw_errno("wait for start on exec.fifo");
}

// Until `ready` create reads the sync channel; after it (the channel is
// closed) `start` reads start.fifo.
void report_failure(InitContext& context, const char* message) {
    if (context.channel.fd() >= 0) {
        try {
            // After hello the parent sends go: a message of ours must come
            // after it. Sent before, the parent's go would hit a closed
            // socket (EPIPE), or, unread when we exit, reset the connection
            // (ECONNRESET) before the parent reads our message: either way
            // the reason would be lost (go is read late, steps 4-8).
            if (context.hello_sent && !context.go_received) os::expect_message<os::GoMessage>(context.channel);
        } catch (...) {
        }
        try {
            context.channel.send(os::SyncType::error, message);
        } catch (...) {
        }
        return;
    }
    if (context.start_status) (void)!::write(context.start_status.get(), message, std::strlen(message));
}

}  // namespace

// The steps, numbered as in docs/architecture.md, "The privileged order",
// which tells the order once and why; a step moved here is moved there (and
// in exec.cpp's run_exec_child, which takes the same ProcessSetup phases).
void run_container_init(InitContext& context) {
    try {
        const spec::Config& config = *context.config;
        const spec::Process& process = *config.process;

        // 0. Into our v1 cgroups, by ourselves (cgroups/self_join.hpp): the
        //    cgroup2 one we were born in. Before any other step, and before
        //    `hello`: create's `go` means we are in every cgroup.
        if (context.cgroup_join) cgroups::join_from_inside(*context.cgroup_join);
        //    Then the new network namespace create made for us, if it did
        //    (early_netns.hpp): ours before hello, as if the clone made it.
        if (context.network_namespace >= 0 && ::setns(context.network_namespace, CLONE_NEWNET) != 0)
            throw_errno("setns into the container's new network namespace");
        // 1. The rootfs fd from our cwd, then no fd of the runtime beyond it,
        //    the channel, the fifos and what the steps below still use.
        UniqueFd rootfs_dir = take_rootfs_from_cwd(context);
        close_inherited_fds(context, rootfs_dir.get());
        // 2. Die with `create` until it is done with us. Until execve this
        //    process is the tether binary: not dumpable means no process of
        //    the container may open /proc/<pid>/exe or ptrace it
        //    (CVE-2019-5736); execve of the container's program resets it.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

        // 3. Namespaces joined by path (new ones came with clone); `hello`
        //    gives the parent our host pid, `go` says the cgroup and id maps
        //    are in place and carries the state for the hooks we run. When
        //    the parent has nothing to place (no id maps; every cgroup
        //    joined by ourselves in step 0), steps 4-8 do not wait for it:
        //    `go` is read before step 9, the first other message.
        os::join_namespaces(*context.namespaces);
        context.channel.send(os::SyncType::hello);
        context.hello_sent = true;
        std::string hook_state;
        //    v1 cgroups made after the clone are joined at `go`: before the
        //    cgroup namespace (4), a `type: cgroup` mount (8) and the hooks
        //    (9), whichever comes first.
        //    A network namespace create was still making at the clone comes
        //    with `go`, read then before the first sysfs mount (8: sysfs shows
        //    the network devices of the namespace that mounts it) and the
        //    hooks (9).
        auto receive_go = [&] {
            if (context.go_received) return;
            os::SyncMessage go = context.channel.expect(os::SyncType::go);
            hook_state = os::GoMessage::decode(go.payload).hook_state;
            context.go_received = true;
            // Its fds: the network namespace first, then the v1 tasks files.
            UniqueFd network_namespace;
            auto next = go.fds.begin();
            if (context.network_namespace_at_go) {
                if (next == go.fds.end()) throw Error("the container's network namespace did not come with go");
                network_namespace = std::move(*next++);
            }
            if (context.cgroup_join)
                cgroups::join_v1_after_go(*context.cgroup_join, std::vector<UniqueFd>(std::make_move_iterator(next),
                                                                                      std::make_move_iterator(go.fds.end())));
            if (network_namespace && ::setns(network_namespace.get(), CLONE_NEWNET) != 0)
                throw_errno("setns into the container's new network namespace");
        };
        const bool v1_after_go = context.cgroup_join && context.cgroup_join->v1_after_go;
        if (context.go_before_setup || context.namespaces->new_user ||
            (v1_after_go && context.unshare_cgroup_namespace))
            receive_go();
        // 4. The cgroup namespace's root is the cgroup of the process that
        //    makes it, and only now are we in our own (runc unshares it here
        //    too). Made at clone, its root was the runtime's cgroup: the
        //    container saw "/<id>" in /proc/self/cgroup and, with a writable
        //    cgroup mount, could move itself up into the runtime's cgroup, out
        //    of its limits and out of a sandbox's socket programs (hooks/bpf).
        if (context.unshare_cgroup_namespace && ::unshare(CLONE_NEWCGROUP) != 0)
            throw_errno("unshare(CLONE_NEWCGROUP)");
        // 5. The mapped root of a new user namespace does the rest.
        if (context.namespaces->new_user) launch::become_root_in_user_namespace();
        // 6. A new network namespace's `lo` up: programs expect 127.0.0.1.
        if ((context.namespaces->new_flags & CLONE_NEWNET) && context.network_namespace < 0 &&
            !context.network_namespace_at_go)
            os::bring_loopback_up();
        // 7. Our own procfs for sysctl and oomScoreAdj, opened before any
        //    mount of the container exists (CVE-2025-52881, procfs.hpp).
        //    Only when there is one to write: it is a mount of its own, and
        //    the close of its last fd, at execve, waits for an expedited RCU
        //    grace period (0.1 ms here) before the container's first step.
        std::optional<security::ProcFs> procfs;
        const bool has_sysctls = config.linux_ && !config.linux_->sysctl.empty();
        if (has_sysctls || process.oom_score_adj) procfs = security::ProcFs::open();

        // 8. hostname, then the filesystem up to pivot_root.
        set_hostnames(config, *context.namespaces);
        if (v1_after_go || context.network_namespace_at_go) context.rootfs.before_mount_needing_go = receive_go;
        UniqueFd bound_rootfs = prepare_rootfs(context, rootfs_dir);
        receive_go();
        // 9. prestart and createRuntime hooks, run by the parent; tether-netd
        //    answers with the proxy's port and environment. When its hook is
        //    the only one, steps 11-14 go on while it starts, and the answer
        //    is taken after them (it is needed from step 15 on).
        ask_for_prestart_hooks(context);
        AfterPrestart prestart;
        if (!context.only_netd_before_pivot) {
            prestart = wait_for_prestart_hooks(context);
            // 10. createContainer: in our mount namespace, before
            //     pivot_root, so the hook's path is still the runtime's view
            //     (runtime-spec).
            os::run_hooks("createContainer", config.hooks.create_container, hook_state,
                          create_container_hook_cwd(context.rootfs.bundle));
        }
        // 11. pivot_root (or chroot without a mount namespace).
        enter_rootfs(context, bound_rootfs, rootfs_dir);
        // 12. The terminal, from the container's own devpts (after pivot_root),
        //     before the root may turn read-only. Without a mount namespace
        //     /dev/console stays as it is: a bind there would be on the host.
        if (process.terminal)
            os::set_up_terminal_in_container(context.channel, process.console_size,
                                             context.mount_plan->new_mount_namespace);
        // 13. linux.sysctl before finish_rootfs makes /proc/sys read-only
        //     (runc's order): Docker and rootless podman always send some.
        if (has_sysctls) security::apply_sysctls(config.linux_->sysctl, *procfs);
        // 14. Masked paths, read-only paths, the read-only root.
        if (context.mount_plan->new_mount_namespace) os::finish_rootfs(*context.mount_plan);
        if (context.only_netd_before_pivot) prestart = wait_for_prestart_hooks(context);
        std::vector<std::string> env = process.env;
        for (const auto& entry : prestart.netd.env) launch::set_env(env, entry);

        // 15. Process security: ProcessSetup's phases, in their order.
        std::optional<SandboxSetup> sandbox;
        if (context.sandbox) {
            sandbox = *context.sandbox;
            sandbox->kernel_enforced = prestart.netd.kernel_enforced;
        }
        ProcessSetup setup(context.container_id, config, *context.namespaces, context.no_new_keyring);
        setup.set_sandbox(sandbox ? &*sandbox : nullptr, prestart.netd.proxy_port,
                          prestart.compiled_filters ? &*prestart.compiled_filters : nullptr);
        //     a. rlimits, oomScoreAdj, personality, keyring, no_new_privs.
        setup.before_credentials(procfs ? &*procfs : nullptr);
        //     b. process.cwd inside the root, created when missing (runc's
        //        init; launch.hpp): still as root, before Landlock and seccomp
        //        may forbid the mkdir.
        launch::enter_cwd(process.cwd, launch::MissingCwd::create);
        //     c. Landlock, the seccomp closures and the notify filter (its
        //        listener to tether-netd through the parent), while we still
        //        hold CAP_SYS_ADMIN: podman sends no noNewPrivileges.
        setup.apply_sandbox(context.channel);
        //     d. The config's seccomp profile unless noNewPrivileges defers it.
        setup.load_filters_with_privileges(context.channel);
        //     e. Bounding set, setgroups/setgid/setuid, the final capabilities.
        setup.switch_credentials();
        //     f. HOME and the executable, as the container's user sees them
        //        (runc's error texts: podman maps them to 126/127).
        launch::add_home(env, process.user.uid);
        const std::string executable = os::find_executable(process.args.at(0), env);

        // 16. Ready: `create` returns. Block on the fifo fd we already hold
        //     until `start` writes to it.
        ::prctl(PR_SET_PDEATHSIG, 0);
        context.channel.send(os::SyncType::ready);
        context.channel.close();
        if (context.wait_for_start) wait_for_start(context.exec_fifo.get());
        context.exec_fifo.reset();
        // 17. startContainer: in the container, after start, before the
        //     process, in process.cwd (runc and crun). `start` reads
        //     start.fifo: a failure reaches it through the catch below.
        os::run_hooks("startContainer", config.hooks.start_container, hook_state, "");
        // 18. Default signals (the hooks' runner ignores SIGPIPE), the
        //     deferred seccomp profile as late as possible, execve.
        launch::reset_signals();
        setup.load_filters_late();
        launch::exec_process(executable, process.args, env);
    } catch (const std::exception& e) {
        report_failure(context, e.what());
        ::_exit(127);
    }
}

}  // namespace tether
