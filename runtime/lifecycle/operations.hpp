// The verbs after create, as library functions the thin CLI files call.
#pragma once

#include <string>
#include <vector>

#include "runtime/lifecycle/state_store.hpp"

namespace tether {

// Releases the init blocked on exec.fifo; runs poststart hooks.
void start_container(const StateStore& store, const std::string& id);

// Sends `signal` to the init (or, with all, to every process of the container).
void kill_container(const StateStore& store, const std::string& id, int signal, bool all);

// Removes a stopped (or created) container; with force, kills a running one
// first. An unknown id is an error unless force.
void delete_container(const StateStore& store, const std::string& id, bool force);

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
