#include "runtime/lifecycle/exec.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "runtime/cgroups/manager.hpp"
#include "runtime/core/error.hpp"
#include "runtime/core/fs.hpp"
#include "runtime/core/log.hpp"
#include "runtime/lifecycle/created_config.hpp"
#include "runtime/lifecycle/launch.hpp"
#include "runtime/lifecycle/process_setup.hpp"
#include "runtime/lifecycle/wait.hpp"
#include "runtime/linux/console.hpp"
#include "runtime/linux/exec_lookup.hpp"
#include "runtime/linux/namespaces.hpp"
#include "runtime/core/child_guard.hpp"
#include "runtime/linux/sync_messages.hpp"
#include "runtime/lifecycle/netd_client.hpp"
#include "runtime/lifecycle/sandbox_setup.hpp"

namespace tether {
namespace {

// ------------------------------------------------------------ the process

uint32_t parse_id(const std::string& text, const char* what) {
    char* end = nullptr;
    errno = 0;
    unsigned long value = std::strtoul(text.c_str(), &end, 10);
    if (text.empty() || *end || errno || value > UINT32_MAX)
        throw Error(std::string("--user: ") + what + " \"" + text + "\" is not a number");
    return static_cast<uint32_t>(value);
}

void add_unique(std::vector<std::string>& set, const std::string& cap) {
    if (std::find(set.begin(), set.end(), cap) == set.end()) set.push_back(cap);
}

// runc's rules: a process file is taken as it is (only --tty may turn the
// terminal on: podman passes both); otherwise the container's process with
// the flags applied.
spec::Process build_process(const ExecOptions& options, const spec::Process& container_process) {
    const ExecProcessFlags& flags = options.flags;
    spec::Process process;
    if (!options.process_file.empty()) {
        std::string text = fs::read_file(options.process_file, 4 * 1024 * 1024);
        try {
            process = spec::parse_process(text);
        } catch (const std::exception& e) {
            throw Error(options.process_file + ": " + e.what());
        }
        if (flags.tty) process.terminal = true;
        return process;
    }
    process = container_process;
    process.args = flags.args;
    process.terminal = flags.tty;
    process.console_size.reset();
    if (!flags.cwd.empty()) process.cwd = flags.cwd;
    for (const auto& entry : flags.env) launch::set_env(process.env, entry);
    if (!flags.user.empty()) {
        size_t colon = flags.user.find(':');
        process.user.uid = parse_id(flags.user.substr(0, colon), "uid");
        if (colon != std::string::npos) process.user.gid = parse_id(flags.user.substr(colon + 1), "gid");
    }
    if (!flags.additional_gids.empty()) process.user.additional_gids = flags.additional_gids;
    if (!flags.caps.empty()) {
        if (!process.capabilities) process.capabilities = spec::Capabilities{};
        for (auto cap : flags.caps) {
            if (cap.rfind("CAP_", 0) != 0) cap = "CAP_" + cap;
            add_unique(process.capabilities->bounding, cap);
            add_unique(process.capabilities->effective, cap);
            add_unique(process.capabilities->permitted, cap);
        }
    }
    if (flags.no_new_privs) process.no_new_privileges = true;
    if (!flags.process_label.empty()) process.selinux_label = flags.process_label;
    if (!flags.apparmor.empty()) process.apparmor_profile = flags.apparmor;
    return process;
}

// ------------------------------------------------------------ the child

struct ChildContext {
    std::string container_id;
    const spec::Config* config = nullptr;
    os::NamespacePlan* namespaces = nullptr;
    os::SyncChannel channel;
    int init_pidfd = -1;
    int join_flags = 0;
    int preserve_fds = 0;
    const SandboxSetup* sandbox = nullptr;  // a sandboxed container: exec'd processes are sandboxed too
    std::optional<uint16_t> proxy_port;
    cgroups::SelfJoin* cgroup_join = nullptr;  // the v1 cgroups we move ourselves into, first
};

// The child's steps, numbered as the init's steps they match in
// docs/architecture.md ("The privileged order", which says why).
// ProcessSetup refuses its phases in another order.
[[noreturn]] void run_exec_child(ChildContext& context) {
    try {
        const spec::Config& config = *context.config;
        const spec::Process& process = *config.process;
        // (0) Into the container's v1 cgroups by ourselves, before anything
        //    else (cgroups/self_join.hpp); the cgroup2 one we were born in.
        if (context.cgroup_join) cgroups::join_from_inside(*context.cgroup_join);
        // (2) Non-dumpable until execve: no ptrace, no /proc/<pid>/{exe,fd,mem}
        //    of a process that still holds runtime state (CVE-2016-9962).
        //    Die with the runtime until the process runs.
        ::prctl(PR_SET_DUMPABLE, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        // (1) No fd of the runtime beyond 3 + preserve_fds reaches the process
        //    (CVE-2024-21626); the channel and the init's pidfd close at exec.
        launch::mark_fds_for_exec(context.preserve_fds, {context.channel.fd(), context.init_pidfd});
        // (3) `go`: we are in the container's cgroup before we run any code of
        //    the container.
        os::expect_message<os::GoMessage>(context.channel);
        // (7) Our own procfs, opened before we enter the container's mount
        //    namespace, where a mount over /proc/self could take our writes
        //    (CVE-2025-52881). Only for an oomScoreAdj to write: as in the
        //    init, its close at execve costs a grace period.
        std::optional<security::ProcFs> procfs;
        if (process.oom_score_adj) procfs = security::ProcFs::open();
        // (3, 5) Every other namespace of the init at once (user first,
        //    atomically); pid and time came with clone. Then its root.
        int flags = context.join_flags & ~os::kChildrenOnlyNamespaces;
        if (flags && ::setns(context.init_pidfd, flags) != 0) throw_errno("setns into the container's namespaces");
        if (flags & CLONE_NEWUSER) launch::become_root_in_user_namespace();
        // (12) The terminal, from the container's devpts.
        if (process.terminal) os::set_up_terminal_in_container(context.channel, process.console_size, false);

        // (15) Process security: ProcessSetup's phases a-f, as in the init.
        ProcessSetup setup(context.container_id, config, *context.namespaces, false);
        setup.set_sandbox(context.sandbox, context.proxy_port);
        setup.before_credentials(procfs ? &*procfs : nullptr);
        //      b. process.cwd must exist: runc's exec does not create it (launch.hpp).
        launch::enter_cwd(process.cwd, launch::MissingCwd::refuse);
        setup.apply_sandbox(context.channel);
        setup.load_filters_with_privileges(context.channel);
        setup.switch_credentials();
        std::vector<std::string> env = process.env;
        launch::add_home(env, process.user.uid);
        const std::string executable = os::find_executable(process.args.at(0), env);
        // (18) Default signals, the deferred seccomp profile, execve. From exec
        //    on the process lives on its own (a detached exec outlives us).
        launch::reset_signals();
        setup.load_filters_late();
        ::prctl(PR_SET_PDEATHSIG, 0);
        launch::exec_process(executable, process.args, env);
    } catch (const std::exception& e) {
        try {
            context.channel.send(os::SyncType::error, e.what());
        } catch (...) {
        }
        ::_exit(127);
    }
}

// ------------------------------------------------------------ the parent


// True once the child's end of the channel is closed: it exec'd (CLOEXEC).
bool child_closed_channel(const os::SyncChannel& channel) {
    char byte;
    ssize_t n = retry_eintr([&] { return ::recv(channel.fd(), &byte, 1, MSG_PEEK); });
    return n == 0;
}

UniqueFd open_live_init(const spec::StoredState& state) {
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, state.oci.pid, 0)));
    // Checked after opening: from here on the pidfd names that process even
    // if the pid is reused.
    if (!pidfd || !process_is_alive(state.oci.pid, state.init_start_time))
        throw Error("cannot exec in container " + state.oci.id + ": its init is gone (container not running)");
    return pidfd;
}

}  // namespace

int exec_in_container(const StateStore& store, const ExecOptions& options) {
    // The container's lock is held until the process runs: no delete or
    // pause can slip in between our checks and the exec.
    std::optional<ContainerDir> dir(store.open(options.id));
    spec::StoredState state = dir->load();
    LiveStatus status = live_status(*dir, state);
    if (status == LiveStatus::paused) throw Error("cannot exec in a paused container " + options.id);
    if (status == LiveStatus::stopped)
        throw Error("cannot exec in a stopped container " + options.id + " (container not running)");

    // The container's config as it was at create, not the bundle's now: the
    // exec'd process gets the namespaces and sandbox the init got.
    spec::Config config = load_created_config(*dir, state);
    if (!config.process || !config.linux_) throw Error("exec: the container's config has no process or linux section");
    config.process = build_process(options, *config.process);
    if (config.process->args.empty()) throw Error("exec: args must not be empty");
    // The container's sysctls are already set; /proc/sys is read-only now.
    if (config.linux_) config.linux_->sysctl.clear();
    if (config.process->terminal && options.console_socket.empty() && options.detach)
        throw Error("process.terminal is true: a detached exec needs --console-socket to receive its terminal");
    if (!config.process->terminal && !options.console_socket.empty())
        throw Error("--console-socket needs a terminal (--tty or \"terminal\": true)");
    preflight_process_security(config);

    os::NamespacePlan namespaces;
    for (const auto& ns : config.linux_->namespaces) namespaces.present.push_back(ns.type);
    // The same policy as the init's: the exec'd process gets a Landlock
    // domain of its own (a sibling of the init's), the closures, and a notify
    // filter whose listener goes to the container's tether-netd.
    std::optional<SandboxSetup> sandbox = prepare_sandbox(config, namespaces, dir->path(), options.default_policy, options.admin_config);
    std::optional<uint16_t> proxy_port;
    if (sandbox && sandbox->supervised) {
        NetdInfo netd = query_network_daemon(dir->path());
        sandbox->kernel_enforced = netd.kernel_enforced;
        if (netd.proxy_port) {
            proxy_port = netd.proxy_port;
            for (const auto& entry : proxy_environment(netd.proxy_port)) launch::set_env(config.process->env, entry);
        }
    }

    UniqueFd init_pidfd = open_live_init(state);
    int join_flags = os::namespaces_differing_from_ours(state.oci.pid);
    // setns(CLONE_NEWPID/NEWTIME) only changes where our children go: the
    // child is born inside the container's pid namespace.
    int for_children = join_flags & os::kChildrenOnlyNamespaces;
    if (for_children && ::setns(init_pidfd.get(), for_children) != 0)
        throw_errno("setns into the container's pid namespace");

    auto [parent_channel, child_channel] = os::SyncChannel::make_pair();
    ChildContext context;
    context.container_id = options.id;
    context.config = &config;
    context.namespaces = &namespaces;
    context.channel = std::move(child_channel);
    context.init_pidfd = init_pidfd.get();
    context.join_flags = join_flags;
    context.preserve_fds = options.preserve_fds;
    context.sandbox = sandbox ? &*sandbox : nullptr;
    context.proxy_port = proxy_port;

    // Born in the container's cgroup2 cgroup where the layout has one, and
    // into its v1 ones by itself, as the init (cgroups/self_join.hpp).
    std::unique_ptr<cgroups::CgroupManager> cgroup;
    cgroups::SelfJoin cgroup_join;
    if (!state.cgroup_path.empty()) {
        cgroup = cgroups::open_cgroup_manager(state.cgroup_path, state.rootless);
        cgroup_join = cgroup->prepare_self_join();
        context.cgroup_join = &cgroup_join;
    }
    int raw_pidfd = -1;
    bool born_in_cgroup2 = false;
    pid_t child = launch::clone_child_into_cgroup(0, &raw_pidfd, "the exec process", cgroup_join.cgroup2_dir.get(),
                                                  &born_in_cgroup2);
    if (child == 0) run_exec_child(context);  // never returns
    cgroup_join = cgroups::SelfJoin();  // the child has its copies
    UniqueFd child_pidfd(raw_pidfd);
    ChildGuard guard(child);
    context.channel.close();

    if (cgroup) cgroup->finish_join(child, born_in_cgroup2);
    os::send_message(parent_channel, os::GoMessage{});

    UniqueFd master;
    while (!child_closed_channel(parent_channel)) {
        os::SyncMessage message = parent_channel.receive();
        if (message.type == os::SyncType::error) throw Error(message.payload);
        if (message.type == os::SyncType::console_fd) {
            int number = os::ConsoleFdMessage::decode(message.payload).fd;
            master = os::take_fd(child_pidfd.get(), number, "the pty master of the exec process");
            if (!options.console_socket.empty()) {
                os::send_console_master(options.console_socket, master.get());
                master.reset();
            }
            parent_channel.send(os::SyncType::console_taken);
        } else if (message.type == os::SyncType::listener_fd) {
            os::ListenerFdMessage listener_fd = os::ListenerFdMessage::decode(message.payload);
            if (listener_fd.kind != os::ListenerKind::netd)
                throw Error("exec: a seccomp profile with SCMP_ACT_NOTIFY is not supported for exec yet");
            UniqueFd listener = os::take_fd(child_pidfd.get(), listener_fd.fd, "the seccomp listener of the exec process");
            hand_listener_to_netd(dir->path(), listener.get());
            parent_channel.send(os::SyncType::listener_taken);
        } else {
            throw Error("exec: unexpected message on the sync socket");
        }
    }
    guard.disarm();
    dir.reset();  // the process runs: later verbs (kill, delete) must not wait for us

    if (!options.pid_file.empty()) launch::write_pid_file(options.pid_file, child);
    // The process runs: the warnings are part of this exec's success, and a
    // long-running process must not hold them back until it exits.
    log::flush_warnings();
    if (options.detach) return 0;
    return master ? os::relay_terminal(master.get(), child, child_pidfd.get())
                  : wait_forwarding_signals(child, child_pidfd.get());
}

}  // namespace tether
