// ps, pause, resume, update and events: status checks as runc does them,
// then one call into the cgroup manager.
#include "runtime/lifecycle/cgroup_verbs.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "runtime/cgroups/manager.hpp"
#include "runtime/core/error.hpp"
#include "runtime/core/log.hpp"
#include "spec/stats.hpp"

namespace tether {
namespace {

// What a verb needs of a container after its lock is released.
struct OpenContainer {
    spec::StoredState state;
    LiveStatus status;
};

OpenContainer open_container(const StateStore& store, const std::string& id) {
    ContainerDir dir = store.open(id);
    spec::StoredState state = dir.load();
    return {state, live_status(dir, state)};
}

std::unique_ptr<cgroups::CgroupManager> container_cgroup(const std::string& id, const spec::StoredState& state) {
    if (state.cgroup_path.empty()) throw Error("container " + id + " has no cgroup");
    return cgroups::open_cgroup_manager(state.cgroup_path, state.rootless);
}

void forward_warnings(const cgroups::CgroupManager& cgroup) {
    for (const auto& warning : cgroup.warnings()) log::warning(warning);
}

// runc's wording: clients look for "container not running" in errors.
[[noreturn]] void throw_not_running(const std::string& id, LiveStatus status) {
    throw Error("container " + id + " is " + status_name(status) + " (container not running)");
}

void require_live(const std::string& id, LiveStatus status) {
    if (status == LiveStatus::stopped) throw_not_running(id, status);
}

}  // namespace

std::vector<pid_t> container_pids(const StateStore& store, const std::string& id) {
    OpenContainer container = open_container(store, id);
    // A stopped container may still have processes (host pid namespace), so
    // its cgroup is listed whatever the status, as runc does.
    std::vector<pid_t> pids = container_cgroup(id, container.state)->pids();
    std::sort(pids.begin(), pids.end());
    return pids;
}

std::string run_host_ps(const std::vector<std::string>& args) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw_errno("ps: pipe2");
    UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>("ps"));
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    const pid_t child = ::fork();
    if (child < 0) throw_errno("ps: fork");
    if (child == 0) {
        ::dup2(write_end.get(), STDOUT_FILENO);
        // execvp falls back to /bin:/usr/bin when PATH is unset (podman
        // calls the runtime without PATH).
        ::execvp("ps", argv.data());
        ::_exit(127);
    }
    write_end.reset();
    std::string output;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(read_end.get(), buffer, sizeof buffer);
        if (n > 0) {
            output.append(buffer, static_cast<size_t>(n));
        } else if (n == 0 || errno != EINTR) {
            break;
        }
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) throw Error("ps: cannot run the host's ps command");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw Error("ps: the host's ps command failed (status " + std::to_string(status) + ")");
    return output;
}

void pause_container(const StateStore& store, const std::string& id) {
    // The lock is held while freezing: a concurrent resume or delete waits.
    ContainerDir dir = store.open(id);
    spec::StoredState state = dir.load();
    const LiveStatus status = live_status(dir, state);
    if (status == LiveStatus::paused) throw Error("container " + id + " is already paused");
    // A created container has not exec'd its process yet; `state` would keep
    // reporting "created" for it, so only a running one can be paused.
    if (status != LiveStatus::running) throw_not_running(id, status);
    auto cgroup = container_cgroup(id, state);
    cgroup->freeze();
    forward_warnings(*cgroup);
}

void resume_container(const StateStore& store, const std::string& id) {
    ContainerDir dir = store.open(id);
    spec::StoredState state = dir.load();
    const LiveStatus status = live_status(dir, state);
    if (status != LiveStatus::paused)
        throw Error("container " + id + " is " + status_name(status) + " (container not paused)");
    auto cgroup = container_cgroup(id, state);
    cgroup->thaw();
    forward_warnings(*cgroup);
}

void update_container(const StateStore& store, const std::string& id, spec::Resources resources) {
    ContainerDir dir = store.open(id);
    spec::StoredState state = dir.load();
    require_live(id, live_status(dir, state));
    if (!resources.devices.empty()) {
        log::warning("update: linux.resources.devices cannot be changed on a live container; ignored (as runc does)");
        resources.devices.clear();
    }
    auto cgroup = container_cgroup(id, state);
    cgroup->apply_resources(resources);
    forward_warnings(*cgroup);
}

std::string container_stats_json(const StateStore& store, const std::string& id) {
    OpenContainer container = open_container(store, id);
    require_live(id, container.status);
    auto cgroup = container_cgroup(id, container.state);
    const std::string json = spec::stats_event_to_json(id, cgroup->stats());
    forward_warnings(*cgroup);
    return json;
}

void stream_container_events(const StateStore& store, const std::string& id, std::chrono::nanoseconds interval,
                             const std::function<void(const std::string&)>& emit) {
    if (interval.count() <= 0) throw Error("events: --interval must be greater than zero");
    std::unique_ptr<cgroups::CgroupManager> cgroup;
    UniqueFd init_pidfd;
    {
        // The lock is released before streaming: events runs for the
        // container's whole life and must not block pause, kill or delete.
        OpenContainer container = open_container(store, id);
        require_live(id, container.status);
        cgroup = container_cgroup(id, container.state);
        init_pidfd = UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, container.state.oci.pid, 0)));
        if (!init_pidfd) throw_errno("events: pidfd_open " + std::to_string(container.state.oci.pid));
        // The pidfd must name the init, not a process that reused its pid.
        if (!process_is_alive(container.state.oci.pid, container.state.init_start_time))
            throw_not_running(id, LiveStatus::stopped);
    }
    std::unique_ptr<cgroups::OomEventSource> oom;
    try {
        oom = cgroup->oom_events();
    } catch (const Error& error) {
        log::warning(std::string("events: no OOM notifications: ") + error.what());
    }
    forward_warnings(*cgroup);
    log::flush_warnings();

    using clock = std::chrono::steady_clock;
    auto next_tick = clock::now() + interval;
    for (;;) {
        const auto remaining = std::chrono::ceil<std::chrono::milliseconds>(next_tick - clock::now());
        pollfd fds[2] = {{init_pidfd.get(), POLLIN, 0}, {oom ? oom->fd() : -1, POLLIN, 0}};
        const int ready = ::poll(fds, 2, static_cast<int>(std::max<int64_t>(0, remaining.count())));
        if (ready < 0) {
            if (errno == EINTR) continue;
            throw_errno("events: poll");
        }
        if (fds[1].revents & POLLIN) {
            for (uint64_t kills = oom->wait_for_oom(); kills > 0; --kills) emit(spec::oom_event_to_json(id));
        }
        // After the OOM check: an OOM that ended the container is still reported.
        if (fds[0].revents & POLLIN) return;
        if (clock::now() >= next_tick) {
            spec::CgroupStats stats;
            try {
                stats = cgroup->stats();
            } catch (const Error&) {
                if (!cgroup->exists()) return;  // deleted under us: the stream is over
                throw;
            }
            emit(spec::stats_event_to_json(id, stats));
            next_tick += interval;
            if (next_tick < clock::now()) next_tick = clock::now() + interval;
        }
    }
}

}  // namespace tether
