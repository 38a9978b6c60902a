#include "hooks/daemon/netd_daemon.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <future>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <thread>
#include <sstream>

#include "hooks/bpf/socket_enforcement.hpp"
#include "hooks/bpf/socket_events.hpp"
#include "hooks/daemon/control_server.hpp"
#include "hooks/daemon/isolation.hpp"
#include "hooks/daemon/network_services.hpp"
#include "hooks/dns/dns_responder.hpp"
#include "hooks/daemon/policy_from_state.hpp"
#include "hooks/daemon/resident_code.hpp"
#include "hooks/protocol.hpp"
#include "runtime/core/error.hpp"
#include "runtime/core/unix_address.hpp"
#include "runtime/core/user_namespace.hpp"
#include "spec/admin_config.hpp"
#include "spec/annotation_keys.hpp"
#include "spec/policy.hpp"
#include "spec/state_parse.hpp"

namespace tether::hooks {
namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw Error("read " + path, errno);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void make_state_dir(const std::string& dir) {
    // tether creates it; under runc/crun (podman hooks.d) nobody does.
    for (size_t slash = dir.find('/', 1); slash != std::string::npos; slash = dir.find('/', slash + 1))
        ::mkdir(dir.substr(0, slash).c_str(), 0711);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) throw_errno("mkdir " + dir);
}

UniqueFd listen_control_socket(const std::string& path) {
    UnixAddress address(path);  // any depth
    UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!fd) throw_errno("socket(AF_UNIX)");
    ::unlink(path.c_str());  // a stale socket of an earlier container with this id
    mode_t old = ::umask(077);
    int rc = ::bind(fd.get(), address.get(), address.size());
    ::umask(old);
    if (rc != 0) throw_errno("bind " + path);
    if (::listen(fd.get(), 8) != 0) throw_errno("listen " + path);
    return fd;
}

// Written to a temporary name and renamed, so that a reader never sees a
// half-written pid.
void write_pid_file(const std::string& path) {
    std::string temporary = path + ".tmp";
    UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) throw_errno("open " + temporary);
    std::string pid = std::to_string(::getpid());
    if (::write(fd.get(), pid.data(), pid.size()) != static_cast<ssize_t>(pid.size())) throw_errno("write " + temporary);
    fd.reset();
    if (::rename(temporary.c_str(), path.c_str()) != 0) throw_errno("rename " + temporary);
}

UniqueFd termination_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    // Blocked in every thread started later (the supervisor's), delivered
    // through the signalfd to the main loop.
    if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) throw_errno("sigprocmask");
    UniqueFd fd(::signalfd(-1, &set, SFD_CLOEXEC));
    if (!fd) throw_errno("signalfd");
    return fd;
}

void redirect_stdio_to_null() {
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0) throw_errno("open /dev/null");
    for (int fd = 0; fd <= 2; ++fd) ::dup2(null, fd);
    if (null > 2) ::close(null);
}

struct Prepared {
    spec::State state;
    std::string state_dir;
    UniqueFd init_pidfd;
    UniqueFd init_netns;  // /proc/<init>/ns/net: where the bridge and proxy listen
    spec::NetworkPolicy network;
    hooks::ProxyTimeouts proxy_timeouts;
    bool enforced = true;  // false: a plain OCI hook in bestEffort mode
    bool best_effort = false;
    // Transparent egress wanted: the policy's (allowedDomains or
    // allowedHosts, not turned off) and allowed by the administrator; not in
    // audit mode, which enforces, and so redirects, nothing.
    bool transparent = false;
    SupervisorPolicy policy;
    std::unique_ptr<RotatingLog> audit_trail;  // null: none could be had, and none was asked for
    std::string audit_trail_note;              // why there is none
};

// Where the sandbox's audit trail goes: run.tether.log (already checked to
// lie in a log directory), else <decision log directory>/<id>.jsonl.
// Opened here, as root before the daemon drops its capabilities. A trail the
// administrator or the policy asked for must open, or the hook fails; the
// default one may be out of reach (rootless: /var/log is not ours), and is
// then noted in the state dir's log instead.
void open_audit_trail(Prepared& p, const spec::SandboxPolicy& policy, const spec::AdminConfig& admin) {
    std::string directory = admin.decision_log_directory, relative = p.state.id + ".jsonl";
    if (policy.sandbox.log_path) {
        const std::string& path = *policy.sandbox.log_path;
        std::string base;
        for (const auto& dir : admin.log_directories)
            if (spec::path_within(path, {dir}) && dir.size() > base.size() && path != dir) base = dir;
        if (base.empty()) throw Error(std::string(spec::keys::kLog) + ": " + path + " is not a file in a log directory");
        directory = base;
        relative = path.substr(base == "/" ? 1 : base.size() + 1);
    }
    try {
        p.audit_trail = std::make_unique<RotatingLog>(directory, relative, admin.decision_log_rotate_bytes,
                                                      admin.decision_log_rotate_keep);
    } catch (const Error& e) {
        if (policy.sandbox.log_path || admin.present()) throw;
        p.audit_trail_note = e.what();
    }
}

// A line of the daemon's own in the decision log: how this sandbox is (not)
// enforced, with the key that made it so.
void log_daemon_note(DecisionLog& log, const std::string& container_id, std::string rule,
                     std::string annotation = spec::keys::kBestEffort) {
    Decision note;
    note.container_id = container_id;
    note.pid = static_cast<int>(::getpid());
    note.comm = "tether-netd";
    note.syscall = "netd";
    note.verdict = "allow";
    note.rule = std::move(rule);
    note.annotation = std::move(annotation);
    log.write(std::move(note));
}

std::string annotation_or_empty(const spec::State& state, const std::string& key) {
    auto found = state.annotations.find(key);
    return found == state.annotations.end() ? "" : found->second;
}

// Tests only: TETHER_TEST_SOCKET_BPF=off in the hook's environment (tether
// puts it there when its own environment has it, never from the container's
// config) makes the cgroup programs unavailable, so that a test can show
// what its attack does without them.
bool kernel_enforcement_switched_off() {
    const char* knob = std::getenv("TETHER_TEST_SOCKET_BPF");
    return knob && std::string(knob) == "off";
}

// The first choice (DESIGN.md, "Sandbox"): cgroup socket-address programs
// decide every inet call in the kernel, at the real call. Without them the
// seccomp supervisor decides alone, and it cannot decide everything: a call
// on a unix or netlink socket is let through with
// SECCOMP_USER_NOTIF_FLAG_CONTINUE, and a second thread can dup2 an inet
// socket onto that fd number before the kernel re-reads it (measured: 20,000
// UDP datagrams in 4 s to an unlisted port). So without the programs the
// sandbox is not enforced, and it does not start unless the policy accepts
// that (bestEffort), which is then written to the log.
struct KernelEnforcement {
    std::unique_ptr<bpf::SocketEventReader> events;
    UniqueFd original_destinations;  // transparent egress only
    std::optional<bpf::SocketEnforcement> attached;
};

// Off the container's path, on a thread of its own (it waits for RCU grace
// periods): frees the slots of containers that are gone and makes free
// ones for the next creates (hooks/bpf/container_slots.hpp).
std::thread keep_container_slots(const bpf::SocketEnforcement& attached) {
    return std::thread([&programs = attached.programs(), kind = attached.slot_kind()] {
        try {
            bpf::keep_slots(programs, kind);
        } catch (const std::exception&) {
            // The next daemon tries again; a create meanwhile makes its own.
        }
        // What the upkeep allocated (a policy's 25 KiB, the walks) goes back
        // to the kernel, and so does the code start-up ran (resident_code.hpp):
        // the daemon's RSS is per sandbox (issue 23).
        ::malloc_trim(0);
        drop_resident_code();
    });
}

KernelEnforcement enforce_in_kernel(const Prepared& p, const std::shared_ptr<DecisionLog>& log) {
    std::string why;
    try {
        if (kernel_enforcement_switched_off()) throw Error("switched off by TETHER_TEST_SOCKET_BPF=off (tests only)");
        bpf::require_initial_user_namespace(read_own_uid_map());
        auto enforcement =
            bpf::SocketEnforcement::attach(bpf::socket_rules_for(p.policy), bpf::container_cgroup2_dir(p.state.pid));
        UniqueFd ring(::fcntl(enforcement.events_fd(), F_DUPFD_CLOEXEC, 3));
        if (!ring) throw_errno("dup of the socket events' ring buffer");
        KernelEnforcement k;
        if (enforcement.original_destinations_fd() >= 0) {
            k.original_destinations.reset(::fcntl(enforcement.original_destinations_fd(), F_DUPFD_CLOEXEC, 3));
            if (!k.original_destinations) throw_errno("dup of the original destinations' map");
        }
        k.events = std::make_unique<bpf::SocketEventReader>(std::move(ring), bpf::kEventRingBytes, p.state.id, log);
        k.events->start();
        k.attached.emplace(std::move(enforcement));
        return k;
    } catch (const std::exception& e) {
        why = e.what();
    }
    if (!p.best_effort)
        throw Error("kernel enforcement is unavailable (" + why +
                    "): without the cgroup socket programs the seccomp supervisor cannot decide every inet call "
                    "(a thread can swap an inet socket onto a unix socket's fd during its check), so the "
                    "run.tether.network.* policy would not hold; refusing to start the container. Set "
                    "run.tether.sandbox.bestEffort=true (in a policy file such as --default-policy's: "
                    "sandbox.bestEffort) to run with the supervisor alone");
    log_daemon_note(*log, p.state.id, "supervisor-only:kernel-enforcement-unavailable-bestEffort: " + why);
    return {};
}

// Under runc or crun (podman hooks.d) no seccomp listener ever arrives and no
// Landlock ruleset is applied: the container could connect anywhere its
// network namespace leads, whatever the policy says. Running anyway would
// look like a sandbox and be none, so the hook refuses unless the policy
// accepts that explicitly.
void check_enforcement(const HookOptions& options, const spec::SandboxPolicy& policy, Prepared& p) {
    if (options.runtime == kEnforcingRuntime) return;
    if (!policy.sandbox.best_effort)
        throw Error("not started by tether (no --runtime tether): under " +
                    (options.runtime.empty() ? std::string("runc/crun") : options.runtime) +
                    " no seccomp supervisor and no Landlock enforce the run.tether.network.* policy; refusing to "
                    "start the container. Run it with tether, or set run.tether.sandbox.bestEffort=true to get "
                    "the loopback bridge and the egress proxy without enforcement");
    p.enforced = false;
}

// The hooks.d copy of the hook (no --runtime) also fires when podman's
// runtime is tether, which already injected its own enforcing tether-netd:
// the process running the hook is then tether itself.
bool started_by_tether_without_flag() {
    char exe[PATH_MAX];
    std::string link = "/proc/" + std::to_string(::getppid()) + "/exe";
    ssize_t n = ::readlink(link.c_str(), exe, sizeof exe - 1);
    if (n <= 0) return false;
    std::string path(exe, static_cast<size_t>(n));
    return path.substr(path.find_last_of('/') + 1) == kEnforcingRuntime;
}

Prepared prepare(const HookOptions& options, std::istream& state_json) {
    Prepared p;
    p.state = spec::parse_state(std::string(std::istreambuf_iterator<char>(state_json), {}));
    if (p.state.pid <= 0) throw Error("state: pid: the container has no running init");
    p.state_dir = options.state_dir.empty() ? "/run/tether/" + p.state.id : options.state_dir;

    std::optional<std::string> default_policy;
    if (!options.default_policy_path.empty()) default_policy = read_file(options.default_policy_path);
    spec::AdminConfig admin;
    if (!options.admin_config_path.empty())
        admin = spec::parse_admin_config(options.admin_config_path, read_file(options.admin_config_path));
    spec::SandboxPolicy policy = spec::parse_policy(p.state.annotations, default_policy, read_file, admin);
    check_enforcement(options, policy, p);
    p.best_effort = policy.sandbox.best_effort;
    p.transparent = policy.network.transparent_egress() && admin.transparent_egress && !policy.audit();
    open_audit_trail(p, policy, admin);
    p.network = policy.network;
    p.proxy_timeouts = options.proxy_timeouts;

    p.init_pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, p.state.pid, 0)));
    if (!p.init_pidfd) throw_errno("pidfd_open of the init (pid " + std::to_string(p.state.pid) + ")");
    NetworkMode mode = detect_network_mode(p.state.pid);
    if (mode != NetworkMode::host) {
        std::string netns = "/proc/" + std::to_string(p.state.pid) + "/ns/net";
        p.init_netns.reset(::open(netns.c_str(), O_RDONLY | O_CLOEXEC));
        if (!p.init_netns) throw_errno("open " + netns);
        // The pid could have been reused between pidfd_open and open: the
        // pidfd still naming a live process proves the namespace is the
        // init's.
        if (::syscall(SYS_pidfd_send_signal, p.init_pidfd.get(), 0, nullptr, 0) != 0)
            throw_errno("the init (pid " + std::to_string(p.state.pid) + ") exited during setup");
    }

    std::vector<Endpoint> resolvers = read_resolvers("/etc/resolv.conf");
    if (!p.state.bundle.empty()) {
        auto inside = read_resolvers(p.state.bundle + "/rootfs/etc/resolv.conf");
        resolvers.insert(resolvers.end(), inside.begin(), inside.end());
    }
    // The proxy port is known once the daemon listens (run_daemon).
    p.policy = supervisor_policy_for(policy, mode, 0, std::move(resolvers));
    return p;
}

// In the daemon (grandchild): set up, report readiness on `ready`, serve.
[[noreturn]] void run_daemon(Prepared p, UniqueFd ready) {
    std::string socket_path = p.state_dir + "/" + protocol::kSocketName;
    std::string pid_path = p.state_dir + "/" + protocol::kPidFileName;
    int status = 0;
    try {
        // One malloc arena for all the daemon's threads (issue 23): glibc
        // gives each thread that allocates an arena of its own (its first
        // 132 KiB heap and its pages stay mapped); the threads here mostly
        // wait, and each keeps a tcache of small blocks anyway.
        ::mallopt(M_ARENA_MAX, 1);
        redirect_stdio_to_null();
        ::signal(SIGPIPE, SIG_IGN);
        UniqueFd signals = termination_signals();
        make_state_dir(p.state_dir);
        UniqueFd listener = listen_control_socket(socket_path);
        auto log = std::make_shared<DecisionLog>(p.state_dir + "/" + protocol::kDecisionLogName);
        if (p.audit_trail) log->add_audit_trail(std::move(p.audit_trail));
        log->set_pod(annotation_or_empty(p.state, "io.kubernetes.pod.name"),
                     annotation_or_empty(p.state, "io.kubernetes.pod.namespace"));
        if (!p.audit_trail_note.empty())
            log_daemon_note(*log, p.state.id, "audit-trail-unavailable: " + p.audit_trail_note, spec::keys::kLog);
        write_pid_file(pid_path);
        // Before any thread exists: capabilities, the bounding set and
        // no_new_privs are per thread, and threads inherit them.
        isolate_daemon();
        if (!p.enforced) log_daemon_note(*log, p.state.id, "not-enforced:plain-oci-hook-bestEffort");
        // The socket programs go in before "ready" (the container's process
        // does not exist yet). Off the host network no rule names the
        // proxy's port, so they are loaded (verifier, ~1 ms) on a thread of
        // their own while the listeners are made in the container's
        // namespace; on the host network the proxy's port is one of the rules.
        // Transparent egress needs the kernel's redirect: not without the
        // programs (a plain OCI hook). In an own namespace the listener's
        // port is known in advance.
        bool transparent = p.transparent && p.enforced;
        if (transparent && p.policy.mode != NetworkMode::host) {
            p.policy.transparent_port = kTransparentPortInNamespace;
            // Allowlist-only DNS comes with transparent egress in an own
            // namespace (NetworkServices makes the responder).
            p.policy.dns_port = dns::kDnsPortInNamespace;
        }
        std::future<KernelEnforcement> early_enforcement;
        if (p.enforced && p.policy.mode != NetworkMode::host)
            early_enforcement = std::async(std::launch::async, [&p, &log] { return enforce_in_kernel(p, log); });
        // Listeners exist before "ready": the container may connect as soon
        // as it runs. The supervisor must know the proxy's port before its
        // first decision, so policy.proxy_port is filled before it exists.
        NetworkServices services(p.network, p.proxy_timeouts, p.policy.mode, p.init_netns.get(), p.state.id, log,
                                 transparent);
        p.init_netns.reset();
        KernelEnforcement kernel;
        if (early_enforcement.valid()) kernel = early_enforcement.get();
        p.policy.proxy_port = services.proxy_port();
        if (p.policy.mode == NetworkMode::host) p.policy.transparent_port = services.transparent_port();
        if (p.enforced && p.policy.mode == NetworkMode::host) kernel = enforce_in_kernel(p, log);
        // The transparent listener serves only where the kernel redirects
        // and files where each connection was going.
        if (kernel.original_destinations) services.enable_transparent(std::move(kernel.original_destinations));
        else p.policy.transparent_port = 0;
        if (transparent && !p.policy.transparent_port)
            log_daemon_note(*log, p.state.id, "transparent-egress-unavailable:direct-connects-refused",
                            spec::keys::kTransparent);
        std::unique_ptr<bpf::SocketEventReader> kernel_events = std::move(kernel.events);
        std::optional<bpf::SocketEnforcement> attached = std::move(kernel.attached);
        services.start();
        ControlServer server(std::move(listener), std::move(p.init_pidfd), std::move(signals), p.policy, p.state.id,
                             log);
        if (kernel_events) server.set_kernel_enforcement([&kernel_events] { kernel_events->drain(); });
        std::string ok(protocol::kOk);
        [[maybe_unused]] auto n = ::write(ready.get(), ok.data(), ok.size());
        ready.reset();
        std::thread upkeep;
        if (attached) upkeep = keep_container_slots(*attached);
        server.run();
        kernel_events.reset();  // reads what is left in the ring
        if (upkeep.joinable()) upkeep.join();
        log->flush();  // before _exit, which runs no destructor
    } catch (const std::exception& e) {
        if (ready) {
            std::string message = std::string("tether-netd: ") + e.what();
            [[maybe_unused]] auto n = ::write(ready.get(), message.data(), message.size());
        }
        status = 1;
    }
    ::unlink(socket_path.c_str());
    ::unlink(pid_path.c_str());
    // _exit: the supervisor's worker threads may still be in a connect.
    ::_exit(status);
}

}  // namespace

namespace {

// The hook's failure: one line on stderr, which tether puts into its own
// error (runtime/linux/hook_runner.hpp), as runc does for any hook.
int fail_hook(const std::string& message) {
    std::cerr << message << "\n";
    return 1;
}

}  // namespace

int run_prestart_hook(const HookOptions& options, std::istream& state_json) {
    if (options.runtime.empty() && started_by_tether_without_flag()) {
        // Drain the state: the runtime's write must not fail with EPIPE.
        std::string ignored(std::istreambuf_iterator<char>(state_json), {});
        return 0;
    }
    Prepared prepared;
    try {
        prepared = prepare(options, state_json);
    } catch (const std::exception& e) {
        return fail_hook(std::string("tether-netd: ") + e.what());
    }

    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
        std::perror("tether-netd: pipe2");
        return 1;
    }
    UniqueFd ready_read(pipe_fds[0]), ready_write(pipe_fds[1]);
    std::cout.flush();
    std::cerr.flush();

    // One fork: the child calls setsid (no signal sent to the runtime's
    // process group or terminal reaches it) and becomes the daemon; this hook
    // process returns once it is ready, and the daemon is re-parented to the
    // subreaper or init. It leads its session but can never acquire a
    // controlling terminal: it opens no terminal (stdio is /dev/null, the rest
    // are sockets, /proc and its own state files), and only a session leader
    // opening a tty without O_NOCTTY gets one. A second fork to give up the
    // leadership cost a process per container and bought nothing more.
    pid_t daemon = ::fork();
    if (daemon < 0) {
        std::perror("tether-netd: fork");
        return 1;
    }
    if (daemon == 0) {
        ready_read.reset();
        if (::setsid() < 0) ::_exit(1);
        run_daemon(std::move(prepared), std::move(ready_write));
    }
    ready_write.reset();

    // Readiness is the pipe: "ok" then EOF (the daemon closes its end before
    // serving), or an error text then EOF (it exits). No polling, no sleep.
    std::string answer;
    char buffer[512];
    for (;;) {
        ssize_t n = retry_eintr([&] { return ::read(ready_read.get(), buffer, sizeof buffer); });
        if (n <= 0) break;
        answer.append(buffer, static_cast<size_t>(n));
    }
    // A daemon that failed has exited: reap it rather than leave a zombie
    // until this hook exits.
    if (answer != protocol::kOk) retry_eintr([&] { return ::waitpid(daemon, nullptr, 0); });
    if (answer == protocol::kOk) {
        if (!prepared.enforced)
            std::cerr << "tether-netd: warning: not started by tether: bridge and proxy only, nothing is enforced "
                         "(run.tether.sandbox.bestEffort=true)\n";
        return 0;
    }
    return fail_hook(answer.empty() ? std::string("tether-netd: the daemon exited during setup") : answer);
}

}  // namespace tether::hooks
