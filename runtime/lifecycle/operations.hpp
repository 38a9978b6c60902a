// The verbs after create, as library functions the thin CLI files call.
#pragma once

#include <string>
#include <vector>

#include "runtime/cgroups/manager.hpp"
#include "runtime/lifecycle/create.hpp"
#include "runtime/lifecycle/state_store.hpp"

namespace tether {

// Releases the init blocked on exec.fifo; runs poststart hooks.
void start_container(const StateStore& store, const std::string& id);
// The same for `run`, on the container create just made (CreateOptions::
// start_at_once): its directory still locked, its state and poststart hooks
// in hand, nothing read back. Releases the lock.
// channels: the pipes create made instead of the fifos (start_at_once);
// empty: the fifos.
void start_created_container(ContainerDir dir, spec::StoredState& state, const std::vector<spec::Hook>& poststart,
                             StartChannels channels = {});

// Sends `signal` to the init (or, with all, to every process of the container).
void kill_container(const StateStore& store, const std::string& id, int signal, bool all);

// What `run` knows of the container it made and reaped: delete uses it
// instead of reading back the config and the cgroup layout, as long as the
// state directory still describes that container (same init pid and start
// time; otherwise it was deleted and made again meanwhile).
struct KnownContainer {
    pid_t init_pid = 0;
    uint64_t init_start_time = 0;
    const std::vector<spec::Hook>* poststop = nullptr;
    cgroups::CgroupManager* cgroup = nullptr;  // null: opened from the state, as without known
};

// Removes a stopped (or created) container; with force, kills a running one
// first. An unknown id is an error unless force.
void delete_container(const StateStore& store, const std::string& id, bool force,
                      const KnownContainer* known = nullptr);

// The OCI state document with the live status.
std::string container_state_json(const StateStore& store, const std::string& id);

struct ListedContainer {
    spec::State state;
};
std::vector<ListedContainer> list_containers(const StateStore& store);

// Parses "9", "SIGKILL", "KILL" (case-insensitive); throws on anything else.
int parse_signal(const std::string& text);

// Blocks until the process behind pidfd has exited, or timeout_ms passes.
bool wait_pidfd(int pidfd, int timeout_ms);

}  // namespace tether
