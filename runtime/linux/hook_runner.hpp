// Runs OCI hooks: path + args + env, the container state JSON on stdin, killed
// (and failed) when it outlives its timeout.
#pragma once

#include <string>
#include <vector>

#include "spec/config.hpp"

namespace tether::os {

// Runs one hook; throws Error naming the hook kind and path on a non-zero
// exit, a signal, or a timeout. Output goes to the runtime's stderr... no:
// to /dev/null-safe inherited stderr (runc passes its own stdio).
void run_hook(const char* kind, const spec::Hook& hook, const std::string& state_json);
// Runs hooks in order; the first failure throws.
void run_hooks(const char* kind, const std::vector<spec::Hook>& hooks, const std::string& state_json);
// Runs every hook even when some fail (poststop); returns the error messages.
std::vector<std::string> run_hooks_collect_errors(const char* kind, const std::vector<spec::Hook>& hooks,
                                                  const std::string& state_json);

}  // namespace tether::os
