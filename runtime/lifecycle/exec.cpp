#include "runtime/lifecycle/exec.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <optional>

#include "runtime/cgroups/manager.hpp"
#include "runtime/core/error.hpp"
#include "runtime/core/fs.hpp"
#include "runtime/core/log.hpp"
#include "runtime/lifecycle/created_config.hpp"
#include "runtime/lifecycle/process_setup.hpp"
#include "runtime/lifecycle/wait.hpp"
#include "runtime/linux/console.hpp"
#include "runtime/linux/exec_lookup.hpp"
#include "runtime/linux/namespaces.hpp"
#include "runtime/linux/path_in_root.hpp"
#include "runtime/core/child_guard.hpp"
#include "runtime/linux/sync_channel.hpp"
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

void set_env(std::vector<std::string>& env, const std::string& entry) {
    std::string key = entry.substr(0, entry.find('='));
    std::erase_if(env, [&](const std::string& e) { return e.rfind(key + "=", 0) == 0; });
    env.push_back(entry);
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
    for (const auto& entry : flags.env) set_env(process.env, entry);
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

// ------------------------------------------------------------ namespaces

struct NamespaceFile {
    const char* name;
    int flag;
};
constexpr NamespaceFile namespace_files[] = {
    {"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS},     {"pid", CLONE_NEWPID}, {"net", CLONE_NEWNET},
    {"ipc", CLONE_NEWIPC},   {"uts", CLONE_NEWUTS},    {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

// The namespaces of the init that differ from ours (setns into the one we
// are already in fails for a user namespace).
int namespaces_to_join(pid_t init_pid) {
    int flags = 0;
    pid_t self = ::getpid();
    for (const auto& ns : namespace_files) {
        unsigned long theirs = os::namespace_inode(init_pid, ns.name);
        if (theirs != 0 && theirs != os::namespace_inode(self, ns.name)) flags |= ns.flag;
    }
    return flags;
}

constexpr int for_children_only = CLONE_NEWPID | CLONE_NEWTIME;

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
};

// Everything from 3 + preserve_fds closes at exec; the fds we use until then
// (the channel, the init's pidfd) are never among the preserved ones.
void mark_fds_for_exec(int preserve_fds, const std::vector<int>& ours) {
    int first = 3 + preserve_fds;
    if (::syscall(SYS_close_range, static_cast<unsigned int>(first), ~0u, CLOSE_RANGE_CLOEXEC) != 0)
        throw_errno("close_range");
    for (int fd = 3; fd < first; ++fd)
        if (std::find(ours.begin(), ours.end(), fd) == ours.end()) ::fcntl(fd, F_SETFD, 0);
}

// Our signal mask and ignored signals (SIGPIPE) must not become the process's.
void reset_signals() {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig = 1; sig < NSIG; ++sig)
        if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
}

void enter_cwd(const std::string& cwd) {
    UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw_errno("open /");
    UniqueFd dir = os::open_in_root(root.get(), cwd, O_PATH | O_DIRECTORY);
    if (::fchdir(dir.get()) != 0) throw_errno("chdir to cwd " + cwd);
}

// HOME from the container's /etc/passwd when the process env has none (runc).
void add_home(std::vector<std::string>& env, uint32_t uid) {
    for (const auto& entry : env)
        if (entry.rfind("HOME=", 0) == 0) return;
    std::string home = "/";
    std::ifstream passwd("/etc/passwd");
    std::string line;
    while (std::getline(passwd, line)) {
        std::vector<std::string> fields;
        size_t pos = 0;
        for (size_t colon; (colon = line.find(':', pos)) != std::string::npos; pos = colon + 1)
            fields.push_back(line.substr(pos, colon - pos));
        fields.push_back(line.substr(pos));
        if (fields.size() >= 6 && fields[2] == std::to_string(uid)) {
            home = fields[5];
            break;
        }
    }
    env.push_back("HOME=" + home);
}

[[noreturn]] void run_exec_child(ChildContext& context) {
    try {
        // Non-dumpable until execve: no ptrace, no /proc/<pid>/{exe,fd,mem}
        // of a process that still holds runtime state (CVE-2016-9962).
        ::prctl(PR_SET_DUMPABLE, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        reset_signals();
        mark_fds_for_exec(context.preserve_fds, {context.channel.fd(), context.init_pidfd});
        const spec::Config& config = *context.config;
        const spec::Process& process = *config.process;

        context.channel.expect(os::SyncType::go);  // we are in the container's cgroup
        // Opened before we enter the container's mount namespace, where a
        // mount over /proc/self could take our writes (CVE-2025-52881).
        security::ProcFs procfs = security::ProcFs::open();
        int flags = context.join_flags & ~for_children_only;
        if (flags && ::setns(context.init_pidfd, flags) != 0) throw_errno("setns into the container's namespaces");
        if (flags & CLONE_NEWUSER) {
            if (::setresgid(0, 0, 0) != 0) throw_errno("setresgid 0 in the user namespace");
            if (::setresuid(0, 0, 0) != 0) throw_errno("setresuid 0 in the user namespace");
        }
        if (process.terminal) os::set_up_terminal_in_container(context.channel, process.console_size, false);

        ProcessSetup setup(context.container_id, config, *context.namespaces, false);
        setup.set_sandbox(context.sandbox, context.proxy_port);
        setup.before_credentials(procfs);
        enter_cwd(process.cwd);
        setup.load_filters_with_privileges(context.channel);
        setup.switch_credentials();
        std::vector<std::string> env = process.env;
        add_home(env, process.user.uid);
        std::string executable = os::find_executable(process.args.at(0), env);
        setup.load_filters_late();
        // From exec on the process lives on its own (a detached exec outlives us).
        ::prctl(PR_SET_PDEATHSIG, 0);

        std::vector<char*> argv, envp;
        for (const auto& a : process.args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
        envp.push_back(nullptr);
        ::signal(SIGPIPE, SIG_DFL);  // ignored in tether (main.cpp); must not leak into the process
        ::execve(executable.c_str(), argv.data(), envp.data());
        throw_errno("exec " + executable);
    } catch (const std::exception& e) {
        try {
            context.channel.send(os::SyncType::error, e.what());
        } catch (...) {
        }
        ::_exit(127);
    }
}

// ------------------------------------------------------------ the parent


pid_t clone_child(int* pidfd) {
    struct clone_args args {};
    args.flags = CLONE_PIDFD;
    args.pidfd = reinterpret_cast<uint64_t>(pidfd);
    args.exit_signal = SIGCHLD;
    long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0) throw_errno("clone3 the exec process");
    return static_cast<pid_t>(pid);
}

// True once the child's end of the channel is closed: it exec'd (CLOEXEC).
bool child_closed_channel(const os::SyncChannel& channel) {
    char byte;
    ssize_t n = retry_eintr([&] { return ::recv(channel.fd(), &byte, 1, MSG_PEEK); });
    return n == 0;
}

void write_pid_file(const std::string& path, pid_t pid) {
    // Decimal, no newline: containerd parses it with strconv.Atoi.
    std::string absolute = fs::absolute_path(path);
    size_t slash = absolute.find_last_of('/');
    std::string dir = absolute.substr(0, slash);
    UniqueFd dir_fd(::open(dir.empty() ? "/" : dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd) throw_errno("pid file directory " + dir);
    fs::write_file_atomic_at(dir_fd.get(), absolute.substr(slash + 1), std::to_string(pid), 0644);
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
            for (const auto& entry : proxy_environment(netd.proxy_port)) {
                std::string key = entry.substr(0, entry.find('='));
                std::erase_if(config.process->env, [&](const std::string& e) { return e.rfind(key + "=", 0) == 0; });
                config.process->env.push_back(entry);
            }
        }
    }

    UniqueFd init_pidfd = open_live_init(state);
    int join_flags = namespaces_to_join(state.oci.pid);
    // setns(CLONE_NEWPID/NEWTIME) only changes where our children go: the
    // child is born inside the container's pid namespace.
    if ((join_flags & for_children_only) && ::setns(init_pidfd.get(), join_flags & for_children_only) != 0)
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

    int raw_pidfd = -1;
    pid_t child = clone_child(&raw_pidfd);
    if (child == 0) run_exec_child(context);  // never returns
    UniqueFd child_pidfd(raw_pidfd);
    ChildGuard guard(child);
    context.channel.close();

    if (!state.cgroup_path.empty())
        cgroups::open_cgroup_manager(state.cgroup_path, state.rootless)->add_process(child);
    parent_channel.send(os::SyncType::go);

    UniqueFd master;
    while (!child_closed_channel(parent_channel)) {
        os::SyncMessage message = parent_channel.receive();
        if (message.type == os::SyncType::error) throw Error(message.payload);
        if (message.type == os::SyncType::console_fd) {
            master = os::take_fd(child_pidfd.get(), std::stoi(message.payload), "the pty master of the exec process");
            if (!options.console_socket.empty()) {
                os::send_console_master(options.console_socket, master.get());
                master.reset();
            }
            parent_channel.send(os::SyncType::console_taken);
        } else if (message.type == os::SyncType::listener_fd) {
            const std::string& payload = message.payload;
            if (payload.rfind(std::string(kNetdListener) + ":", 0) != 0)
                throw Error("exec: a seccomp profile with SCMP_ACT_NOTIFY is not supported for exec yet");
            UniqueFd listener = os::take_fd(child_pidfd.get(), std::stoi(payload.substr(payload.find(':') + 1)),
                                            "the seccomp listener of the exec process");
            hand_listener_to_netd(dir->path(), listener.get());
            parent_channel.send(os::SyncType::listener_taken);
        } else {
            throw Error("exec: unexpected message on the sync socket");
        }
    }
    guard.disarm();
    dir.reset();  // the process runs: later verbs (kill, delete) must not wait for us

    if (!options.pid_file.empty()) write_pid_file(options.pid_file, child);
    // The process runs: the warnings are part of this exec's success, and a
    // long-running process must not hold them back until it exits.
    log::flush_warnings();
    if (options.detach) return 0;
    return master ? os::relay_terminal(master.get(), child, child_pidfd.get())
                  : wait_forwarding_signals(child, child_pidfd.get());
}

}  // namespace tether
