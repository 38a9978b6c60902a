// The config as it was at `create`. runtime-spec, lifecycle step 2: "Any
// updates to config.json after this step MUST NOT affect the container." The
// bundle belongs to the caller, who may rewrite or remove config.json at any
// time; so create keeps the exact bytes it parsed in <state dir>/config.json,
// and start, exec, delete and the hooks they run (poststart, poststop) read
// that copy, never the bundle's. crun keeps the same copy; runc keeps its
// converted config in state.json.
#pragma once

#include <string>

#include "runtime/lifecycle/state_store.hpp"
#include "spec/config.hpp"

namespace tether {

inline constexpr const char* kCreatedConfigName = "config.json";

// Writes the copy (mode 0600: process.env may carry secrets) into the new
// state directory. create calls it before the first state.json exists, which
// is what makes a plain write enough (no temporary file and rename).
void save_created_config(const ContainerDir& dir, const std::string& config_text);

// Parses the copy. Errors name the file: "<state dir>/config.json: process.args: ...".
// A container made by a tether that kept no copy falls back to the bundle's config.json.
spec::Config load_created_config(const ContainerDir& dir, const spec::StoredState& state);

}  // namespace tether
