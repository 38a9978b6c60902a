#include "runtime/lifecycle/operations.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cctype>
#include <map>
#include <optional>

#include "runtime/cgroups/manager.hpp"
#include "runtime/core/error.hpp"
#include "runtime/core/fault.hpp"
#include "runtime/core/log.hpp"
#include "runtime/lifecycle/created_config.hpp"
#include "runtime/lifecycle/create.hpp"
#include "runtime/linux/hook_runner.hpp"

namespace tether {
namespace {

// A pidfd for the init, but only if the pid still names the same process
// (start time): a recycled pid must never receive our signal.
UniqueFd open_init_pidfd(const spec::StoredState& state) {
    if (state.oci.pid <= 0) return UniqueFd();
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, state.oci.pid, 0)));
    if (!pidfd) return UniqueFd();
    if (!process_is_alive(state.oci.pid, state.init_start_time)) return UniqueFd();
    return pidfd;
}

std::unique_ptr<cgroups::CgroupManager> open_cgroup(const spec::StoredState& state) {
    if (state.cgroup_path.empty()) return nullptr;
    return cgroups::open_cgroup_manager(state.cgroup_path, state.rootless);
}

// Poststop hooks come from the config as it was at create. If that cannot be
// read, delete still removes everything: a container must always be deletable.
std::vector<spec::Hook> poststop_hooks(const ContainerDir& dir, const spec::StoredState& state) {
    try {
        return load_created_config(dir, state).hooks.poststop;
    } catch (const std::exception& e) {
        log::warning(std::string("poststop hooks not run: ") + e.what());
        return {};
    }
}

void stop_network_daemon(const spec::StoredState& state) {
    if (state.netd_pid > 0 && process_is_alive(state.netd_pid, state.netd_start_time)) ::kill(state.netd_pid, SIGTERM);
}

// known: run's container, whose poststop hooks and cgroup manager it holds.
void destroy(ContainerDir& dir, const spec::StoredState& state, const KnownContainer* known) {
    stop_network_daemon(state);
    std::string state_json = state_json_for_hooks(state, "stopped");
    for (const auto& error : os::run_hooks_collect_errors(
             "poststop", known ? *known->poststop : poststop_hooks(dir, state), state_json, state.oci.bundle))
        log::warning(error);
    if (known && known->cgroup) {
        known->cgroup->destroy();
    } else if (auto cgroup = open_cgroup(state)) {
        cgroup->destroy();
    }
    fault_point("delete:before-remove");
    dir.remove();
}

void kill_everything(const spec::StoredState& state) {
    UniqueFd pidfd = open_init_pidfd(state);
    auto cgroup = open_cgroup(state);
    if (cgroup) cgroup->kill_all(SIGKILL);
    if (pidfd) {
        ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
        wait_pidfd(pidfd.get(), 10000);
    }
    // The init is gone; anything left in the cgroup (a shared pid namespace)
    // is killed before the cgroup is removed.
    if (cgroup) cgroup->kill_all(SIGKILL);
}

}  // namespace

bool wait_pidfd(int pidfd, int timeout_ms) {
    struct pollfd p {pidfd, POLLIN, 0};
    for (;;) {
        int r = ::poll(&p, 1, timeout_ms);
        if (r > 0) return true;
        if (r == 0) return false;
        if (errno != EINTR) return false;
    }
}

namespace {

// The init's answer to `start`: from create on it holds <state>/start.fifo
// O_RDWR and close-on-exec. Once released it runs the startContainer hooks
// and execs the process; the exec closes its end, so our read ends at EOF
// with nothing in it (no extra round trip). A failing hook, or a failing
// exec, writes its message there and the init exits. nullopt: a container
// made by a tether without start.fifo, nothing to wait for.
std::optional<UniqueFd> open_start_status(const ContainerDir& dir) {
    // O_NONBLOCK: opening a fifo for reading would wait for a writer.
    UniqueFd status(::openat(dir.fd(), "start.fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!status) return std::nullopt;
    int flags = ::fcntl(status.get(), F_GETFL);
    if (flags < 0 || ::fcntl(status.get(), F_SETFL, flags & ~O_NONBLOCK) != 0)
        throw_errno("start.fifo: clear O_NONBLOCK");
    return status;
}

std::string read_start_status(int fd) {
    std::string message;
    char buffer[4096];
    for (;;) {
        ssize_t n = retry_eintr([&] { return ::read(fd, buffer, sizeof buffer); });
        if (n < 0) throw_errno("read start.fifo");
        if (n == 0) return message;
        message.append(buffer, static_cast<size_t>(n));
    }
}

}  // namespace

void start_container(const StateStore& store, const std::string& id) {
    ContainerDir dir = store.open(id);
    spec::StoredState state = dir.load();
    LiveStatus status = live_status(dir, state);
    if (status != LiveStatus::created)
        throw Error("cannot start a container that is " + std::string(status_name(status)) +
                    (status == LiveStatus::stopped ? " (container not running)" : ""));
    // Read before the init is released: a config that cannot be read fails
    // start while the container is still just created.
    std::vector<spec::Hook> poststart = load_created_config(dir, state).hooks.poststart;
    start_created_container(std::move(dir), state, poststart);
}

void start_created_container(ContainerDir locked, spec::StoredState& state, const std::vector<spec::Hook>& poststart,
                             StartChannels channels) {
    std::optional<ContainerDir> dir(std::move(locked));
    const std::string id = dir->id();
    std::optional<UniqueFd> start_status;
    UniqueFd fifo;
    if (channels.release) {
        // `run`: create's pipes, held since before the clone.
        fifo = std::move(channels.release);
        start_status = std::move(channels.status);
    } else {
        // Opened before the init is released: it cannot exec (and close its
        // end) before we hold ours.
        start_status = open_start_status(*dir);
        // O_NONBLOCK: no reader (the init died) fails at once with ENXIO instead of hanging.
        fifo.reset(::openat(dir->fd(), "exec.fifo", O_WRONLY | O_NONBLOCK | O_CLOEXEC));
        if (!fifo) throw_errno("cannot start container " + id + ": open exec.fifo");
        ::unlinkat(dir->fd(), "exec.fifo", 0);
        ::unlinkat(dir->fd(), "start.fifo", 0);
    }
    fault_point("start:after-unlink");
    char byte = 0;
    if (::write(fifo.get(), &byte, 1) != 1) throw_errno("cannot start container " + id + ": write exec.fifo");
    state.oci.status = "running";
    dir->save(state);
    // The lock is not held while the startContainer hooks run: a hook that
    // hangs must not keep `kill` or `delete --force` waiting.
    dir.reset();
    if (start_status) {
        std::string failure = read_start_status(start_status->get());
        if (!failure.empty()) {
            // runtime-spec: a failing startContainer hook is an error, the
            // container is stopped, and the lifecycle goes on at delete
            // (poststop). The init is exiting; anything else in its cgroup
            // (a shared pid namespace) goes with it.
            kill_everything(state);
            throw Error("cannot start container " + id + ": " + failure);
        }
    }
    std::string state_json = state_json_for_hooks(state, "running");
    for (const auto& error : os::run_hooks_collect_errors("poststart", poststart, state_json, state.oci.bundle))
        log::warning(error);
}

void kill_container(const StateStore& store, const std::string& id, int signal, bool all) {
    ContainerDir dir = store.open(id);
    spec::StoredState state = dir.load();
    UniqueFd pidfd = open_init_pidfd(state);
    if (all) {
        if (auto cgroup = open_cgroup(state)) {
            cgroup->kill_all(signal);
            return;
        }
    }
    if (!pidfd) throw Error("container " + id + " is not running (container not running)");
    if (::syscall(SYS_pidfd_send_signal, pidfd.get(), signal, nullptr, 0) != 0)
        throw_errno("kill container " + id);
}

void delete_container(const StateStore& store, const std::string& id, bool force, const KnownContainer* known) {
    auto maybe_dir = store.try_open(id);
    if (!maybe_dir) {
        if (force) return;  // podman and containerd's cleanup rely on this
        throw Error("container \"" + id + "\" does not exist");
    }
    ContainerDir& dir = *maybe_dir;
    spec::StoredState state;
    try {
        state = dir.load();
    } catch (const Error&) {
        // A create that died before writing state.json left only the directory.
        if (!force) throw;
        dir.remove();
        return;
    }
    // Still run's container? Then it knows the rest; its init is reaped.
    if (known && (state.oci.pid != known->init_pid || state.init_start_time != known->init_start_time))
        known = nullptr;
    LiveStatus status = known ? LiveStatus::stopped : live_status(dir, state);
    if (status == LiveStatus::running || status == LiveStatus::paused) {
        if (!force)
            throw Error("cannot delete container " + id + " that is not stopped: " + status_name(status));
        if (status == LiveStatus::paused)
            if (auto cgroup = open_cgroup(state)) cgroup->thaw();
        kill_everything(state);
    } else if (status == LiveStatus::created) {
        // runc deletes a created container without --force: it never ran.
        kill_everything(state);
    }
    destroy(dir, state, known);
}

std::string container_state_json(const StateStore& store, const std::string& id) {
    ContainerDir dir = store.open(id);
    spec::StoredState state = dir.load();
    LiveStatus status = live_status(dir, state);
    spec::State oci = state.oci;
    oci.status = status_name(status);
    if (status == LiveStatus::stopped) oci.pid = 0;
    return spec::state_to_json(oci);
}

std::vector<ListedContainer> list_containers(const StateStore& store) {
    std::vector<ListedContainer> result;
    for (const auto& id : store.list_ids()) {
        try {
            auto dir = store.try_open(id);
            if (!dir) continue;
            spec::StoredState state = dir->load();
            LiveStatus status = live_status(*dir, state);
            state.oci.status = status_name(status);
            if (status == LiveStatus::stopped) state.oci.pid = 0;
            result.push_back({state.oci});
        } catch (const std::exception&) {
            continue;  // half-created: not listed
        }
    }
    return result;
}

int parse_signal(const std::string& text) {
    if (text.empty()) throw Error("signal must not be empty");
    if (std::isdigit(static_cast<unsigned char>(text[0]))) {
        char* end = nullptr;
        long value = std::strtol(text.c_str(), &end, 10);
        if (*end || value <= 0 || value > 64) throw Error("invalid signal \"" + text + "\"");
        return static_cast<int>(value);
    }
    std::string name;
    for (char c : text) name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (name.rfind("SIG", 0) == 0) name = name.substr(3);
    static const std::map<std::string, int> names = {
        {"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"BUS", SIGBUS},   {"CHLD", SIGCHLD}, {"CONT", SIGCONT},
        {"FPE", SIGFPE},   {"HUP", SIGHUP},   {"ILL", SIGILL},   {"INT", SIGINT},   {"IO", SIGIO},
        {"IOT", SIGIOT},   {"KILL", SIGKILL}, {"PIPE", SIGPIPE}, {"POLL", SIGPOLL}, {"PROF", SIGPROF},
        {"PWR", SIGPWR},   {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV}, {"STKFLT", SIGSTKFLT}, {"STOP", SIGSTOP},
        {"SYS", SIGSYS},   {"TERM", SIGTERM}, {"TRAP", SIGTRAP}, {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},
        {"TTOU", SIGTTOU}, {"URG", SIGURG},   {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"VTALRM", SIGVTALRM},
        {"WINCH", SIGWINCH}, {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
    };
    if (auto it = names.find(name); it != names.end()) return it->second;
    if (name.rfind("RTMIN", 0) == 0 || name.rfind("RTMAX", 0) == 0) {
        int base = name.rfind("RTMIN", 0) == 0 ? SIGRTMIN : SIGRTMAX;
        std::string rest = name.substr(5);
        if (rest.empty()) return base;
        int offset = std::atoi(rest.c_str());
        return base + offset;
    }
    throw Error("invalid signal \"" + text + "\"");
}

}  // namespace tether
