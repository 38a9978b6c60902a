// Runs OCI hooks: path + args + env, the container state JSON on stdin, killed
// (and failed) when it outlives its timeout.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "spec/config.hpp"

namespace tether::os {

// Runs one hook with `cwd` as its working directory ("" keeps ours); throws
// Error naming the hook kind and path on a non-zero exit, a signal, a
// timeout, or a cwd it cannot enter. Its stdout and stderr come back to us,
// as runc does it: a failure's message ends with their last 4 KiB
// ("...failed with exit status 3: stderr: boom"); on success they are
// dropped. They are read until the hook exits, not to EOF, so a hook that
// leaves a daemon holding them does not hold `create`.
//
// The working directory, as runc 1.1.5 and crun do it (checked by running
// both): the bundle for prestart, createRuntime, poststart and poststop;
// createContainer gets the bundle as well (crun; runc gives the rootfs);
// startContainer runs in process.cwd inside the container (both), so its
// callers pass "".
void run_hook(const char* kind, const spec::Hook& hook, const std::string& state_json, const std::string& cwd);

// run_hook in two halves, for a hook that may work while we do something
// else (create starts the sandbox's tether-netd while the init builds its
// rootfs): the constructor forks the hook and gives it the state (as far as
// the pipe takes it; the rest while wait() waits), without waiting for its
// exec; wait() waits for its exit and throws as run_hook (also when it could
// not be executed). Destroyed without wait():
// it is waited for anyway (no zombie, and what it set up is finished before
// the caller cleans up), its failure ignored.
//
// Or in three: the constructor without a state forks and execs the hook
// before its state is known (its exec and dynamic loading then overlap the
// caller's work), and feed() gives the state later. A hook never fed gets
// an empty stdin at wait() or destruction.
class StartedHook {
public:
    StartedHook(const char* kind, const spec::Hook& hook, const std::string& state_json, const std::string& cwd);
    StartedHook(const char* kind, const spec::Hook& hook, const std::string& cwd);
    void feed(const std::string& state_json);
    StartedHook(StartedHook&&) noexcept;
    StartedHook& operator=(StartedHook&&) = delete;
    ~StartedHook();
    void wait();

private:
    struct Running;
    std::unique_ptr<Running> running_;
};
// Runs hooks in order; the first failure throws.
void run_hooks(const char* kind, const std::vector<spec::Hook>& hooks, const std::string& state_json,
               const std::string& cwd);
// Runs every hook even when some fail (poststop); returns the error messages.
std::vector<std::string> run_hooks_collect_errors(const char* kind, const std::vector<spec::Hook>& hooks,
                                                  const std::string& state_json, const std::string& cwd);

}  // namespace tether::os
