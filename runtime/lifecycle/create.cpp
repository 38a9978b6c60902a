#include "runtime/lifecycle/create.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <vector>

#include "runtime/cgroups/device_rules.hpp"
#include "runtime/core/child_guard.hpp"
#include "runtime/cgroups/manager.hpp"
#include "runtime/core/error.hpp"
#include "runtime/core/fault.hpp"
#include "runtime/core/fs.hpp"
#include "runtime/core/log.hpp"
#include "runtime/lifecycle/bundle.hpp"
#include "runtime/lifecycle/container_init.hpp"
#include "runtime/lifecycle/created_config.hpp"
#include "runtime/lifecycle/launch.hpp"
#include "runtime/lifecycle/process_setup.hpp"
#include "runtime/linux/bind_sources.hpp"
#include "runtime/linux/console.hpp"
#include "runtime/linux/early_netns.hpp"
#include "runtime/linux/hook_runner.hpp"
#include "runtime/linux/mount_plan.hpp"
#include "runtime/linux/rootfs.hpp"
#include "runtime/linux/sync_messages.hpp"
#include "hooks/protocol.hpp"
#include "runtime/lifecycle/netd_client.hpp"
#include "runtime/lifecycle/sandbox_setup.hpp"
#include "runtime/security/capabilities.hpp"
#include "runtime/security/seccomp_filter.hpp"
#include "runtime/security/seccomp_listener.hpp"
#include "runtime/security/sysctl.hpp"
#include "spec/process_state.hpp"
#include "spec/state.hpp"

namespace tether {
namespace {

// An error the init sent before it died, if one is waiting on the channel
// (up to 200 ms: it writes before it exits, and a failure here is often the
// echo of its death): thrown instead of the caller's own.
void rethrow_init_error(os::SyncChannel& channel) {
    pollfd waiting{channel.fd(), POLLIN, 0};
    if (::poll(&waiting, 1, 200) != 1) return;
    std::optional<std::string> init_error;
    try {
        os::SyncMessage message = channel.receive();
        if (message.type == os::SyncType::error) init_error = message.payload;
    } catch (const std::exception&) {
        // Nothing readable after all: the caller's error stands.
    }
    if (init_error) throw Error(*init_error);
}

// Removes the state directory and cgroup unless create succeeded.
struct CreateCleanup {
    ContainerDir* dir = nullptr;
    cgroups::CgroupManager* cgroup = nullptr;
    std::string netd_state_dir;  // set once tether-netd serves
    bool armed = true;
    ~CreateCleanup() {
        if (!armed) return;
        if (!netd_state_dir.empty()) stop_network_daemon(netd_state_dir);
        if (cgroup) {
            try {
                cgroup->destroy();
            } catch (...) {
            }
        }
        if (dir) dir->remove();
    }
};

// The init builds the rootfs as the mapped root of its user namespace, who
// may not search the directories above the bundle (a 0700 parent owned by
// host root: runc fails there, crun does not). So create finds the rootfs
// with its own privileges and clones the init with it as working directory:
// clone moves the working directory into the new mount namespace
// (copy_mnt_ns), where the init takes it as "." (container_init.cpp). An fd
// opened here would stay in the host's mount namespace, where the init may
// not bind from. Only with a new mount namespace; ours is restored at once.
class CloneInsideRootfs {
public:
    CloneInsideRootfs(const std::string& rootfs, bool new_mount_namespace) {
        if (!new_mount_namespace) return;
        UniqueFd dir(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!dir) throw_errno("open the rootfs " + rootfs);
        saved_.reset(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!saved_) throw_errno("open the working directory");
        if (::fchdir(dir.get()) != 0) throw_errno("chdir to the rootfs " + rootfs);
    }
    ~CloneInsideRootfs() {
        if (saved_) (void)::fchdir(saved_.get());
    }
    void restore() {
        if (saved_ && ::fchdir(saved_.get()) != 0) throw_errno("chdir back to the working directory");
        saved_.reset();
    }
    int saved_cwd() const { return saved_.get(); }

private:
    UniqueFd saved_;
};

bool is_rootless() { return ::geteuid() != 0; }

// Takes the listener fd whose number the init wrote with pidfd_getfd and
// gives it to whoever decides: tether-netd's supervisor, or the config's
// linux.seccomp.listenerPath (runtime-spec ContainerProcessState).
void hand_over_listener(const os::ListenerFdMessage& message, int init_pidfd, const std::string& state_dir,
                        const spec::Config& config, const spec::StoredState& state) {
    UniqueFd listener = os::take_fd(init_pidfd, message.fd, "the seccomp listener of the init");
    if (message.kind == os::ListenerKind::netd) return hand_listener_to_netd(state_dir, listener.get());
    const spec::Seccomp& profile = *config.linux_->seccomp;
    if (profile.listener_path.empty())
        throw Error("linux.seccomp: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath");
    spec::ContainerProcessState process_state;
    process_state.pid = state.oci.pid;
    process_state.metadata = profile.listener_metadata;
    process_state.state = state.oci;
    process_state.state.status = "creating";
    security::send_seccomp_listener(profile.listener_path, listener.get(),
                                    spec::container_process_state_to_json(process_state));
}

}  // namespace

std::string state_json_for_hooks(const spec::StoredState& state, const char* status) {
    spec::State oci = state.oci;
    oci.status = status;
    return spec::state_to_json(oci);
}

CreatedContainer create_container(const StateStore& store, const CreateOptions& options) {
    validate_container_id(options.id);
    return create_container(store, options, load_bundle(options.bundle));
}

CreatedContainer create_container(const StateStore& store, const CreateOptions& options, Bundle bundle) {
    validate_container_id(options.id);
    const spec::Config& config = bundle.config;
    const spec::Linux& linux = *config.linux_;

    os::NamespacePlan namespaces = os::plan_namespaces(linux.namespaces);
    // A sandbox rewrites the config (no_new_privs, masks, the netd hook)
    // before anything exists, and refuses what it cannot enforce.
    std::optional<SandboxSetup> sandbox =
        prepare_sandbox(bundle.config, namespaces, store.root() + "/" + options.id, options.default_policy,
                        options.admin_config, options.proxy_timeouts);
    // A network sandbox gets a cgroup namespace of its own: rooted at its
    // cgroup, it cannot move itself out of the cgroup its socket programs
    // are attached to, even with CAP_SYS_ADMIN and a cgroup2 mount of its own.
    if (sandbox && sandbox->supervised && !namespaces.has(spec::NamespaceType::cgroup)) {
        bundle.config.linux_->namespaces.push_back(spec::Namespace{spec::NamespaceType::cgroup, ""});
        namespaces = os::plan_namespaces(bundle.config.linux_->namespaces);
    }
    preflight_process_security(config);
    security::validate_sysctls(linux.sysctl, namespaces.has(spec::NamespaceType::network),
                               namespaces.has(spec::NamespaceType::ipc), namespaces.has(spec::NamespaceType::uts));
    if (namespaces.new_user && linux.uid_mappings.empty())
        throw Error("linux.uidMappings: a new user namespace needs uid mappings");
    // runc's rules: the terminal of a detached container must go somewhere,
    // and a console socket without a terminal is a caller's mistake.
    if (config.process->terminal && options.console_socket.empty() && options.detach_from_init)
        throw Error("process.terminal is true: a detached container needs --console-socket to receive its terminal");
    if (!config.process->terminal && !options.console_socket.empty())
        throw Error("--console-socket needs process.terminal to be true");
    // What to mount, decided and refused here, before anything exists.
    os::MountPlanInputs mount_inputs;
    mount_inputs.bundle = bundle.path;
    mount_inputs.new_mount_namespace = namespaces.has(spec::NamespaceType::mount);
    mount_inputs.new_user_namespace = namespaces.new_user;
    mount_inputs.own_network_namespace = namespaces.has(spec::NamespaceType::network);
    mount_inputs.own_cgroup_namespace = namespaces.has(spec::NamespaceType::cgroup);
    mount_inputs.host_cgroup_unified = os::host_cgroup_is_unified();
    const os::MountPlan mount_plan = os::plan_mounts(config, mount_inputs);
    os::require_mount_plan(mount_plan);
    // The network namespace is made on a thread of its own (early_netns.hpp);
    // the clone makes it with a new user namespace. A sandbox's tether-netd
    // takes the init's network namespace at hello: the thread starts now and
    // the init is cloned into its namespace. Otherwise the init gets it with
    // `go` and the thread starts right after the clone: a thread alive at the
    // clone would stay in glibc's thread list of the child, whose setgroups
    // then waits forever for it (__nptl_setxid).
    os::EarlyNetworkNamespace early_network;
    const bool early_network_namespace = (namespaces.new_flags & CLONE_NEWNET) && !namespaces.new_user;
    const bool network_namespace_at_go = early_network_namespace && !(sandbox && sandbox->supervised);
    if (early_network_namespace && !network_namespace_at_go) early_network.start();

    log::debug_step("create: config parsed and planned");
    ContainerDir dir = store.create(options.id);
    // Declared before the cleanup that uses it, so it outlives the cleanup.
    std::unique_ptr<cgroups::CgroupManager> cgroup;
    CreateCleanup cleanup;
    cleanup.dir = &dir;
    // A sandbox's tether-netd (the first prestart hook, ours: sandbox_setup)
    // is executed now, its state given at the init's hello (below): its exec
    // and dynamic loading (1-1.5 ms here) overlap the cgroups and the clone.
    // Until then it waits on its stdin; a create that fails before gives it
    // an empty one, and it exits.
    std::optional<os::StartedHook> netd_hook;
    if (sandbox && sandbox->supervised) {
        netd_hook.emplace("prestart", config.hooks.prestart.front(), bundle.path);
        log::debug_step("create: tether-netd started");
    }
    // Before the first state.json: every later verb reads the config from
    // here, so edits to the bundle's config.json cannot reach the container.
    save_created_config(dir, bundle.config_text);
    fault_point("create:after-state-dir");

    spec::StoredState state;
    state.oci.id = options.id;
    state.oci.status = "creating";
    state.oci.bundle = bundle.path;
    state.oci.rootfs = bundle.rootfs;
    state.oci.annotations = config.annotations;
    state.oci.created = log::rfc3339_now();
    state.rootless = is_rootless();
    state.own_pid_namespace = namespaces.has(spec::NamespaceType::pid);

    // The cgroup exists before the init does, so the init is inside it before
    // it runs any code of the container.
    cgroup = options.systemd_cgroup
                 ? cgroups::create_systemd_cgroup_manager(linux.cgroups_path, options.id, config.annotations)
                 : cgroups::create_cgroup_manager(linux.cgroups_path, options.id, state.rootless);
    cleanup.cgroup = cgroup.get();
    state.cgroup_path = cgroup->saved_path();
    // Recorded before the cgroup exists: if the runtime is killed from here
    // on, delete --force finds the cgroup through this state.json (no pid
    // yet). The first one, nothing to find yet: written in place.
    dir.save_first(state);
    // podman lists no device rules beyond deny-all: the default nodes every
    // container gets must still be allowed.
    spec::Resources resources = linux.resources.value_or(spec::Resources{});
    resources.devices = cgroups::effective_device_rules(resources.devices, linux.devices);
    // On v1 and hybrid hosts the v1 hierarchies are made after the clone,
    // while the init builds its rootfs on the other CPU; they go to it with
    // `go` (manager.hpp, create_v1). Not with a new user namespace, where
    // the init waits for `go` at once (id maps): nothing to overlap. (A
    // sandbox, whose network namespace thread runs before the clone, still
    // gains: 0.87x of the old order, alternated 7x20.)
    const bool v1_after_clone = cgroup->can_create_v1_after_clone() && !namespaces.new_user;
    size_t warnings_logged = 0;
    auto log_cgroup_warnings = [&] {
        for (; warnings_logged < cgroup->warnings().size(); ++warnings_logged)
            log::warning(cgroup->warnings()[warnings_logged]);
    };
    auto make_v1_cgroups = [&] {
        if (v1_after_clone) cgroup->create_v1();
        fault_point("create:after-cgroup");
        log::debug_step("create: cgroup made");
        cgroup->apply_resources(resources);
        log_cgroup_warnings();
    };
    if (v1_after_clone) {
        cgroup->create_for_clone();
    } else {
        cgroup->create();
        make_v1_cgroups();
    }

    // exec.fifo: the init holds it O_RDWR and blocks in read() until `start`
    // writes a byte. It exists exactly while the container is "created".
    // start.fifo: the init's answer to `start` (operations.cpp). It holds it
    // O_RDWR, close-on-exec: its exec is an EOF for `start`, a failing
    // startContainer hook is a message there.
    // With start_at_once (`run`) both are pipes: start follows in this
    // process, under the lock, so no other verb needs to find them in the
    // state directory (two fifos fewer to make and unlink). A run killed
    // before start leaves an init that reads EOF and exits, where a fifo
    // kept it waiting for a `start` nobody would send.
    UniqueFd fifo, start_status;
    StartChannels start_channels;
    if (options.start_at_once) {
        int release[2], status[2];
        if (::pipe2(release, O_CLOEXEC) != 0) throw_errno("pipe for the start of the init");
        fifo.reset(release[0]);
        start_channels.release.reset(release[1]);
        if (::pipe2(status, O_CLOEXEC) != 0) throw_errno("pipe for the init's answer to start");
        start_channels.status.reset(status[0]);
        start_status.reset(status[1]);
    } else {
        if (::mknodat(dir.fd(), "exec.fifo", S_IFIFO | 0600, 0) != 0) throw_errno("mkfifo exec.fifo");
        fifo.reset(::openat(dir.fd(), "exec.fifo", O_RDWR | O_CLOEXEC));
        if (!fifo) throw_errno("open exec.fifo");
        if (::mknodat(dir.fd(), "start.fifo", S_IFIFO | 0600, 0) != 0) throw_errno("mkfifo start.fifo");
        start_status.reset(::openat(dir.fd(), "start.fifo", O_RDWR | O_CLOEXEC));
        if (!start_status) throw_errno("open start.fifo");
    }

    auto [parent_channel, init_channel] = os::SyncChannel::make_pair();
    InitContext init;
    init.container_id = options.id;
    init.config = &config;
    init.namespaces = &namespaces;
    init.rootfs.rootfs = bundle.rootfs;
    init.rootfs.bundle = bundle.path;
    init.rootfs.new_user_namespace = namespaces.new_user;
    init.rootfs.own_network_namespace = namespaces.has(spec::NamespaceType::network);
    init.rootfs.own_cgroup_namespace = namespaces.has(spec::NamespaceType::cgroup);
    init.rootfs.cgroup_path = state.cgroup_path;
    const std::optional<std::vector<std::string>> host_v1_mounts = cgroup->v1_mount_points();
    if (host_v1_mounts) init.rootfs.host_v1_mounts = &*host_v1_mounts;
    init.channel = std::move(init_channel);
    init.exec_fifo = std::move(fifo);
    init.start_status = std::move(start_status);
    init.preserve_fds = options.preserve_fds;
    init.no_pivot = options.no_pivot;
    init.no_new_keyring = options.no_new_keyring;
    init.wants_prestart_hooks = !config.hooks.prestart.empty() || !config.hooks.create_runtime.empty();
    // tether-netd needs the init's pid, network namespace and cgroup, not its
    // mount namespace: its own hook need not hold the init before
    // pivot_root. The config's hooks must (runtime-spec), and the terminal's
    // messages would cross the hooks' on the sync channel.
    init.only_netd_before_pivot = sandbox && sandbox->supervised && config.hooks.prestart.size() == 1 &&
                                  config.hooks.create_runtime.empty() && config.hooks.create_container.empty() &&
                                  !config.process->terminal;
    init.sandbox = sandbox ? &*sandbox : nullptr;
    init.mount_plan = &mount_plan;
    // The init, as the mapped root of a new user namespace, may not be
    // allowed to reach the bind sources: we clone them now, with our
    // privileges (bind_sources.hpp). Only for a new mount namespace: one
    // joined by path resolves sources in its own view.
    os::BindSources bind_sources;
    if (namespaces.new_user && (namespaces.new_flags & CLONE_NEWNS)) {
        bind_sources = os::open_bind_sources(mount_plan, config.mounts.size());
        init.rootfs.bind_sources = &bind_sources.numbers;
    }

    os::ChildNamespaces runtime_namespaces = os::join_namespaces_for_children(namespaces);
    fault_point("create:before-clone");
    int pidfd = -1;
    CloneInsideRootfs inside(bundle.rootfs, namespaces.new_flags & CLONE_NEWNS);
    init.runtime_cwd = inside.saved_cwd();
    init.unshare_cgroup_namespace = namespaces.new_flags & CLONE_NEWCGROUP;
    // Born in its cgroup2 cgroup, and into its v1 ones by itself, as its
    // first step or, made after the clone, once `go` says they exist:
    // nobody moves it, so nobody waits for the kernel's global cgroup lock
    // (cgroups/self_join.hpp).
    cgroups::SelfJoin cgroup_join = v1_after_clone ? cgroup->prepare_split_join() : cgroup->prepare_self_join();
    log_cgroup_warnings();
    init.cgroup_join = &cgroup_join;
    unsigned long clone_flags = namespaces.new_flags & ~static_cast<unsigned long>(CLONE_NEWCGROUP);
    UniqueFd network_namespace = early_network.take();
    init.network_namespace = network_namespace.get();
    init.network_namespace_at_go = network_namespace_at_go;
    if (network_namespace || network_namespace_at_go) clone_flags &= ~static_cast<unsigned long>(CLONE_NEWNET);
    bool born_in_cgroup2 = false;
    pid_t child = launch::clone_child_into_cgroup(clone_flags, &pidfd, "the container init",
                                                  cgroup_join.cgroup2_dir.get(), &born_in_cgroup2);
    if (child == 0) {
        // Our copy of born_in_cgroup2 is how we were cloned.
        init.go_before_setup =
            namespaces.new_user || cgroups::parent_completes_join(cgroup_join, born_in_cgroup2);
        run_container_init(init);  // never returns
    }
    cgroup_join = cgroups::SelfJoin();  // the init has its copies
    network_namespace.reset();
    UniqueFd init_pidfd(pidfd);
    ChildGuard guard(child);  // a failed create leaves no init behind
    runtime_namespaces.restore();  // hooks run in the runtime's pid namespace
    inside.restore();
    bind_sources = os::BindSources();  // the init has its copies
    init.channel.close();
    init.exec_fifo.reset();
    init.start_status.reset();
    fault_point("create:after-clone");
    log::debug_step("create: init cloned");
    if (network_namespace_at_go) early_network.start();
    // The v1 cgroups, and their tasks files opened for the init: `go`
    // brings them (its own path lookups of 11 files were 5% of a run's CPU).
    cgroups::SelfJoin v1_tasks;
    if (v1_after_clone) {
        make_v1_cgroups();
        v1_tasks = cgroup->prepare_self_join();
        log_cgroup_warnings();
    }
    if (network_namespace_at_go) {
        // Cloned without CLONE_NEWNET: without this namespace the init would
        // stay in ours, so a failure here fails create.
        network_namespace = early_network.take();
        if (!network_namespace)
            throw Error("cannot make the container's network namespace: " + early_network.error());
    }

    os::SyncMessage hello = parent_channel.expect(os::SyncType::hello);
    pid_t init_pid = hello.sender_pid > 0 ? hello.sender_pid : child;
    state.oci.pid = init_pid;
    // A sandbox's tether-netd (executed above) gets its state now, not when
    // the init asks for the prestart hooks: it attaches the socket programs
    // and opens its listeners while the init builds its rootfs. It needs the
    // init's pid, network namespace (both final at hello) and cgroup2
    // cgroup, nothing of the rootfs. Born in that cgroup, the init is in it
    // already (its v1 ones it joined itself before hello); otherwise it
    // waits for finish_join (the daemon attaches to the init's cgroup as
    // /proc says it is: before the move, that is ours). The other prestart
    // hooks keep their place, after it, in order.
    auto feed_netd_hook = [&] {
        if (!netd_hook) return;
        cleanup.netd_state_dir = dir.path();  // stopped if create fails from here on
        netd_hook->feed(state_json_for_hooks(state, kHookStatusAfterEnvironment));
        log::debug_step("create: tether-netd has the state");
    };
    if (born_in_cgroup2) feed_netd_hook();
    cgroup->finish_join(init_pid, born_in_cgroup2);
    if (!born_in_cgroup2) feed_netd_hook();
    // The systemd driver learns the scope's real folder only once it starts.
    state.cgroup_path = cgroup->saved_path();
    if (namespaces.new_user)
        os::write_id_maps(init_pid, linux.uid_mappings, linux.gid_mappings, state.rootless);
    // The init runs createContainer and startContainer hooks itself: it gets
    // their state document now (kHookStatusAfterEnvironment, see there).
    // What was made after the clone goes with it: the network namespace
    // first, then the v1 tasks files (container_init.cpp takes them so).
    const os::GoMessage go{state_json_for_hooks(state, kHookStatusAfterEnvironment)};
    std::vector<int> go_fds;
    if (network_namespace_at_go) go_fds.push_back(network_namespace.get());
    for (const auto& tasks : v1_tasks.tasks) go_fds.push_back(tasks.get());
    if (go_fds.empty())
        os::send_message(parent_channel, go);
    else
        parent_channel.send_with_fds(os::SyncType::go, go.encode(), go_fds);
    network_namespace.reset();
    v1_tasks = cgroups::SelfJoin();
    log::debug_step("create: init in its cgroups, go sent");
    // While the init builds its rootfs (the other core's work): until this
    // save, a killed create leaves a state.json without the pid, and
    // `delete --force` still finds the init through the cgroup it recorded;
    // the init dies with us anyway (PR_SET_PDEATHSIG).
    state.init_start_time = process_start_time(init_pid);
    dir.save(state);  // from here on `delete --force` can also find the init by pid
    fault_point("create:after-go");

    // The prestart and createRuntime hooks, then tether-netd's answer to the
    // init.
    auto run_prestart_hooks = [&] {
        log::debug_step("create: the init asks for the prestart hooks");
        std::string state_json = state_json_for_hooks(state, kHookStatusAfterEnvironment);
        // runtime-spec lifecycle (and runc): prestart, then createRuntime.
        std::vector<spec::Hook> prestart = config.hooks.prestart;
        if (netd_hook) {
            netd_hook->wait();
            prestart.erase(prestart.begin());
        }
        os::run_hooks("prestart", prestart, state_json, bundle.path);
        os::run_hooks("createRuntime", config.hooks.create_runtime, state_json, bundle.path);
        log::debug_step("create: prestart and createRuntime hooks done");
        os::HooksDoneMessage answer;
        if (sandbox && sandbox->supervised) {
            // tether-netd (the first prestart hook) serves now: record it
            // so delete stops it, and learn where its proxy listens.
            NetdInfo netd = query_network_daemon(dir.path());
            state.netd_pid = netd.pid;
            answer.kernel_enforced = netd.kernel_enforced;
            if (netd.proxy_port) {
                answer.proxy_port = netd.proxy_port;
                answer.env = proxy_environment(netd.proxy_port);
            }
        }
        os::send_message(parent_channel, answer);
        // Recorded while the init goes on (Landlock, seccomp): until the
        // save, a killed create leaves tether-netd unrecorded, and it
        // exits with the init it watches (the init dies with us).
        if (state.netd_pid > 0) {
            state.netd_start_time = process_start_time(state.netd_pid);
            dir.save(state);
            log::debug_step("create: tether-netd recorded");
        }
    };

    for (;;) {
        os::SyncMessage message = parent_channel.receive();
        if (message.type == os::SyncType::error) throw Error(message.payload);
        if (message.type == os::SyncType::ready) break;
        if (message.type == os::SyncType::hooks_needed) {
            try {
                run_prestart_hooks();
            } catch (const std::exception&) {
                // The init goes on with its rootfs while tether-netd starts
                // (only_netd_before_pivot): if it failed there, the daemon
                // exits with it and what failed here is only the echo. Its
                // own error is waiting on the channel.
                rethrow_init_error(parent_channel);
                throw;
            }
        } else if (message.type == os::SyncType::console_fd) {
            // The pty master, from the container's devpts; sent from here so
            // the socket path is resolved in our mount namespace.
            int number = os::ConsoleFdMessage::decode(message.payload).fd;
            UniqueFd master = os::take_fd(init_pidfd.get(), number, "the pty master of the init");
            os::send_console_master(options.console_socket, master.get());
            parent_channel.send(os::SyncType::console_taken);
        } else if (message.type == os::SyncType::listener_fd) {
            hand_over_listener(os::ListenerFdMessage::decode(message.payload), init_pidfd.get(), dir.path(), config,
                               state);
            parent_channel.send(os::SyncType::listener_taken);
            log::debug_step("create: seccomp listener handed over");
        } else {
            throw Error("unexpected message on the sync socket");
        }
    }
    fault_point("create:after-ready");
    log::debug_step("create: init ready");

    state.oci.status = "created";
    // With start_at_once the next save is start's "running", a moment later
    // and under the same lock: one rename of state.json less.
    if (!options.start_at_once) dir.save(state);
    if (!options.pid_file.empty()) launch::write_pid_file(options.pid_file, init_pid);
    fault_point("create:after-pid-file");

    cleanup.armed = false;
    guard.disarm();
    CreatedContainer created;
    created.init_pid = init_pid;
    if (!options.detach_from_init) created.init_pidfd = init_pidfd.release();
    if (options.start_at_once) {
        created.state = state;
        created.poststart = config.hooks.poststart;  // a sandbox adds prestart hooks only
        created.poststop = config.hooks.poststop;
        created.cgroup = std::move(cgroup);
        created.start_channels = std::move(start_channels);
        created.dir.emplace(std::move(dir));
    }
    return created;
}

}  // namespace tether
