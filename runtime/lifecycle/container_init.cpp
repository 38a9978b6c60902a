#include "runtime/lifecycle/container_init.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <optional>

#include "runtime/core/error.hpp"
#include "runtime/linux/console.hpp"
#include "runtime/linux/exec_lookup.hpp"
#include "runtime/linux/hook_runner.hpp"
#include "runtime/linux/path_in_root.hpp"
#include "runtime/lifecycle/process_setup.hpp"
#include "runtime/lifecycle/sandbox_setup.hpp"
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
void close_inherited_fds(int preserve_fds, const std::vector<int>& keep) {
    int first = 3 + preserve_fds;
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
    if (::syscall(SYS_close_range, static_cast<unsigned int>(first), ~0u, CLOSE_RANGE_CLOEXEC) != 0)
        throw_errno("close_range");
    for (int fd = 3; fd < first; ++fd) ::fcntl(fd, F_SETFD, 0);
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

void become_root_in_user_namespace() {
    if (::setresgid(0, 0, 0) != 0) throw_errno("setresgid 0 in the user namespace");
    if (::setresuid(0, 0, 0) != 0) throw_errno("setresuid 0 in the user namespace");
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

// process.cwd, resolved inside the new root and created when missing, as runc does.
void enter_cwd(const std::string& cwd) {
    UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    UniqueFd dir = os::make_path_in_root(root.get(), cwd, os::NodeKind::directory);
    if (::fchdir(dir.get()) != 0) throw_errno("chdir to process.cwd " + cwd);
}

// HOME from the container's /etc/passwd when the config does not set it.
void add_home(std::vector<std::string>& env, uint32_t uid) {
    for (const auto& entry : env)
        if (entry.rfind("HOME=", 0) == 0) return;
    std::string home = "/";
    std::ifstream passwd("/etc/passwd");
    std::string line;
    while (std::getline(passwd, line)) {
        // name:pw:uid:gid:gecos:home:shell
        size_t p1 = line.find(':'), p2 = line.find(':', p1 + 1), p3 = line.find(':', p2 + 1);
        if (p3 == std::string::npos) continue;
        if (line.substr(p2 + 1, p3 - p2 - 1) != std::to_string(uid)) continue;
        size_t p4 = line.find(':', p3 + 1), p5 = line.find(':', p4 + 1), p6 = line.find(':', p5 + 1);
        if (p6 != std::string::npos) home = line.substr(p5 + 1, p6 - p5 - 1);
        break;
    }
    env.push_back("HOME=" + home);
}

// The parent's answer after the prestart hooks: "env=KEY=VALUE" lines to add
// to the process environment (the egress proxy), "proxy_port=N", and
// "kernel_enforced" (tether-netd attached the cgroup socket programs).
void apply_hooks_answer(std::vector<std::string>& env, std::optional<uint16_t>& proxy_port, bool& kernel_enforced,
                        const std::string& lines) {
    size_t pos = 0;
    while (pos < lines.size()) {
        size_t next = lines.find('\n', pos);
        if (next == std::string::npos) next = lines.size();
        std::string line = lines.substr(pos, next - pos);
        pos = next + 1;
        if (line == "kernel_enforced") {
            kernel_enforced = true;
            continue;
        }
        if (line.rfind("proxy_port=", 0) == 0) {
            proxy_port = static_cast<uint16_t>(std::stoul(line.substr(11)));
            continue;
        }
        if (line.rfind("env=", 0) != 0) continue;
        std::string entry = line.substr(4);
        if (!entry.empty()) {
            std::string key = entry.substr(0, entry.find('='));
            std::erase_if(env, [&](const std::string& e) { return e.rfind(key + "=", 0) == 0; });
            env.push_back(entry);
        }
    }
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
            context.channel.send(os::SyncType::error, message);
        } catch (...) {
        }
        return;
    }
    if (context.start_status) (void)!::write(context.start_status.get(), message, std::strlen(message));
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

[[noreturn]] void exec_process(const std::string& path, const std::vector<std::string>& args,
                               const std::vector<std::string>& env) {
    std::vector<char*> argv, envp;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    ::execve(path.c_str(), argv.data(), envp.data());
    throw_errno("exec " + path);
}

}  // namespace

void run_container_init(InitContext& context) {
    try {
        const spec::Config& config = *context.config;
        const spec::Process& process = *config.process;
        UniqueFd rootfs_dir = take_rootfs_from_cwd(context);
        std::vector<int> keep = {context.channel.fd(), context.exec_fifo.get(), rootfs_dir.get()};
        if (context.rootfs.bind_sources)
            for (int fd : *context.rootfs.bind_sources)
                if (fd >= 0) keep.push_back(fd);
        for (const auto& joined : context.namespaces->joins) keep.push_back(joined.fd.get());
        keep.push_back(context.start_status.get());
        close_inherited_fds(context.preserve_fds, keep);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // until `create` is done with us
        // Until execve, this process is the tether binary: not dumpable means no
        // process of the container may open /proc/<pid>/exe or ptrace it
        // (CVE-2019-5736). execve of the container's program resets it.
        ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

        // 1. Namespaces joined by path (new ones came with clone), then tell
        //    the parent our host pid and wait for the cgroup and id maps.
        os::join_namespaces(*context.namespaces);
        context.channel.send(os::SyncType::hello);
        // `go` carries the state document for the hooks the init runs itself
        // (createContainer, startContainer): both see "created".
        std::string hook_state = context.channel.expect(os::SyncType::go).payload;
        // The cgroup namespace's root is the cgroup of the process that makes
        // it, and only now are we in our own (runc unshares it here too).
        // Made at clone, its root was the runtime's cgroup: the container saw
        // "/<id>" in /proc/self/cgroup and, with a writable cgroup mount,
        // could move itself up into the runtime's cgroup, out of its limits
        // and out of a sandbox's socket programs (hooks/bpf).
        if (context.unshare_cgroup_namespace && ::unshare(CLONE_NEWCGROUP) != 0)
            throw_errno("unshare(CLONE_NEWCGROUP)");
        if (context.namespaces->new_user) become_root_in_user_namespace();
        if (context.namespaces->new_flags & CLONE_NEWNET) os::bring_loopback_up();
        // Our own procfs for sysctl and oomScoreAdj, opened before any mount
        // of the container exists (CVE-2025-52881, security/procfs.hpp).
        security::ProcFs procfs = security::ProcFs::open();
        const os::MountPlan& mounts = *context.mount_plan;

        // 2. The filesystem, up to pivot_root; prestart/createRuntime hooks
        //    run in the parent while we wait, with the mounts in place.
        set_hostnames(config, *context.namespaces);
        UniqueFd bound_rootfs;
        if (mounts.new_mount_namespace) {
            bound_rootfs = os::prepare_rootfs(config, mounts, context.rootfs);
            context.rootfs.rootfs_fd = -1;
            rootfs_dir.reset();
        }
        // The bind sources create opened for us are attached (or unused): close them.
        if (context.rootfs.bind_sources)
            for (int fd : *context.rootfs.bind_sources)
                if (fd >= 0) ::close(fd);
        context.rootfs.bind_sources = nullptr;
        std::vector<std::string> env = process.env;
        std::optional<uint16_t> proxy_port;
        bool kernel_enforced = false;
        std::optional<SandboxFilters> compiled_filters;
        if (context.wants_prestart_hooks) {
            context.channel.send(os::SyncType::hooks_needed);
            // While the parent runs the hooks (a sandbox's tether-netd starts
            // there, on the other CPU), compile the seccomp programs loaded
            // later. A failure is left to that later point, which compiles
            // again and reports it in order.
            if (context.sandbox) {
                try {
                    compiled_filters = compile_sandbox_filters(*context.sandbox);
                } catch (const std::exception&) {
                    compiled_filters.reset();
                }
            }
            apply_hooks_answer(env, proxy_port, kernel_enforced, context.channel.expect(os::SyncType::hooks_done).payload);
        }
        // createContainer: in our mount namespace, before pivot_root, so the
        // hook's path is still the runtime's view (runtime-spec).
        os::run_hooks("createContainer", config.hooks.create_container, hook_state,
                      create_container_hook_cwd(context.rootfs.bundle));
        if (mounts.new_mount_namespace) {
            os::enter_rootfs(context.rootfs, bound_rootfs.get(), context.no_pivot);
        } else {
            os::enter_rootfs_without_mount_namespace(context.rootfs);
            rootfs_dir.reset();
        }
        bound_rootfs.reset();
        // The terminal comes from the container's own devpts (after
        // pivot_root), before the root may turn read-only.
        // Without a mount namespace /dev/console stays as it is: a bind there
        // would be made on the host.
        if (process.terminal)
            os::set_up_terminal_in_container(context.channel, process.console_size, mounts.new_mount_namespace);
        // linux.sysctl before finish_rootfs makes /proc/sys read-only (runc's
        // order): Docker and rootless podman always send some.
        if (config.linux_ && !config.linux_->sysctl.empty()) security::apply_sysctls(config.linux_->sysctl, procfs);
        if (mounts.new_mount_namespace) os::finish_rootfs(mounts);

        // 3. Process security, in the order DESIGN.md gives (see process_setup).
        ProcessSetup setup(context.container_id, config, *context.namespaces, context.no_new_keyring);
        std::optional<SandboxSetup> sandbox;
        if (context.sandbox) {
            sandbox = *context.sandbox;
            sandbox->kernel_enforced = kernel_enforced;
        }
        setup.set_sandbox(sandbox ? &*sandbox : nullptr, proxy_port, compiled_filters ? &*compiled_filters : nullptr);
        setup.before_credentials(procfs);
        enter_cwd(process.cwd);
        setup.load_filters_with_privileges(context.channel);
        setup.switch_credentials();
        add_home(env, process.user.uid);
        std::string executable = os::find_executable(process.args.at(0), env);

        // 4. Ready. Block on the fifo fd we already hold until `start`.
        ::prctl(PR_SET_PDEATHSIG, 0);
        context.channel.send(os::SyncType::ready);
        context.channel.close();
        if (context.wait_for_start) wait_for_start(context.exec_fifo.get());
        context.exec_fifo.reset();
        // startContainer: in the container, after start, before the process,
        // in process.cwd (runc and crun). `start` reads start.fifo: a failure
        // reaches it through the catch below and fails `start`.
        os::run_hooks("startContainer", config.hooks.start_container, hook_state, "");
        setup.load_filters_late();
        // tether ignores SIGPIPE (main.cpp); an ignored signal survives execve,
        // and the container's program must get the default.
        ::signal(SIGPIPE, SIG_DFL);
        exec_process(executable, process.args, env);
    } catch (const std::exception& e) {
        report_failure(context, e.what());
        ::_exit(127);
    }
}

}  // namespace tether
