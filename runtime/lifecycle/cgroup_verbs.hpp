// The verbs that work on a live container's cgroup: ps, pause, resume,
// update and events. Each opens the container (taking its lock only as long
// as the verb needs it), checks the live status the way runc does, then calls
// the cgroup manager (runtime/cgroups/manager.hpp), which hides the layout.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/lifecycle/state_store.hpp"
#include "spec/config.hpp"

namespace tether {

// Host pids of every process in the container's cgroup, sorted.
std::vector<pid_t> container_pids(const StateStore& store, const std::string& id);

// `ps --format json`: runc prints the pid list as a JSON array ("[6907,6921]").
std::string pids_to_json(const std::vector<pid_t>& pids);

// `ps` table: keeps the header of a `ps` output and the lines whose PID
// column is one of pids (as runc does). Throws when the header has no PID.
std::string filter_ps_table(std::string_view ps_output, const std::vector<pid_t>& pids);

// Runs the host's `ps` with args (runc's default: -ef) and returns its stdout.
std::string run_host_ps(const std::vector<std::string>& args);

// Freezes a running container (state becomes "paused"); errors for any
// other status.
void pause_container(const StateStore& store, const std::string& id);
// Thaws a paused container; errors unless it is paused.
void resume_container(const StateStore& store, const std::string& id);

// Applies resources to the live cgroup of a created, running or paused
// container. Only the fields present are written. Device rules are ignored
// with a warning, as runc's update ignores them (on cgroup v2 a partial rule
// list would replace the whole device program).
void update_container(const StateStore& store, const std::string& id, spec::Resources resources);

// The flags of `update` (runc's names). Memory sizes are strings so that
// "-1" and unit suffixes are parsed in one place.
struct UpdateFlags {
    std::optional<std::string> memory, memory_reservation, memory_swap, kernel_memory, kernel_memory_tcp;
    std::optional<std::string> cpu_quota, cpu_period, cpu_share, cpu_rt_period, cpu_rt_runtime;
    std::optional<std::string> cpuset_cpus, cpuset_mems;
    std::optional<std::string> pids_limit, blkio_weight;
};
// Turns flags into resources; throws naming the flag on a bad value.
spec::Resources resources_from_flags(const UpdateFlags& flags);

// runc's (docker/go-units RAMInBytes) memory size: "1024", "512k", "64m",
// "1.5g", "2GiB", case-insensitive, binary multiples; "-1" means unlimited.
int64_t parse_memory_size(const std::string& text);

// Go's time.ParseDuration for the units runc users write: "5s", "250ms",
// "1m30s", "1.5s", "100us", "10ns", "2h".
std::chrono::nanoseconds parse_duration(const std::string& text);

// `events --stats`: one stats JSON object (runc's shape). Errors unless the
// container is created, running or paused.
std::string container_stats_json(const StateStore& store, const std::string& id);

// `events`: writes one stats line every interval and one {"type":"oom"} line
// per OOM kill, until the container's init exits. `emit` gets each line
// without its newline.
void stream_container_events(const StateStore& store, const std::string& id, std::chrono::nanoseconds interval,
                             const std::function<void(const std::string&)>& emit);

}  // namespace tether
