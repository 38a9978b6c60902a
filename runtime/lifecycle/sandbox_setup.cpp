#include "runtime/lifecycle/sandbox_setup.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "hooks/protocol.hpp"
#include "runtime/core/error.hpp"
#include "runtime/core/fs.hpp"
#include "runtime/core/log.hpp"
#include "runtime/core/unique_fd.hpp"
#include "runtime/linux/mount_options.hpp"
#include "runtime/linux/sync_messages.hpp"
#include "runtime/sandbox/notify_filter.hpp"
#include "runtime/sandbox/seccomp_cache.hpp"
#include "runtime/sandbox/seccomp_closures.hpp"
#include "runtime/security/seccomp_filter.hpp"
#include "spec/admin_config.hpp"
#include "spec/duration.hpp"

namespace tether {
namespace {

bool is_executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

// The administrator's file: the one named by --admin-config (which must
// exist), else /etc/tether/admin.json when it exists, else none (the caller
// is trusted with every key, as before).
spec::AdminConfig load_admin_config(const std::string& path) {
    std::string chosen = path.empty() ? spec::kDefaultAdminConfigPath : path;
    if (path.empty() && ::access(chosen.c_str(), F_OK) != 0) return spec::AdminConfig{};
    std::string text = fs::read_file(chosen, 1024 * 1024);
    try {
        return spec::parse_admin_config(fs::absolute_path(chosen), text);
    } catch (const std::exception& e) {
        throw Error(std::string("the administrator's file: ") + e.what());
    }
}

// A policy file named by run.tether.policy: a regular file, opened without
// following a symlink at its last component (the directory check in spec/
// is on the path as written).
std::string read_policy_file(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (!fd) throw_errno("open");
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) throw_errno("fstat");
    if (!S_ISREG(st.st_mode)) throw Error("not a regular file");
    if (st.st_size > 1024 * 1024) throw Error("larger than 1 MiB");
    std::string text(static_cast<size_t>(st.st_size), '\0');
    ssize_t n = ::read(fd.get(), text.data(), text.size());
    if (n < 0) throw_errno("read");
    text.resize(static_cast<size_t>(n));
    return text;
}

// The container shares the host's network namespace when it has none of its
// own, or joins one by a path that is the runtime's own.
bool has_own_network_namespace(const spec::Config& config) {
    const spec::Namespace* ns = config.linux_->find_namespace(spec::NamespaceType::network);
    if (!ns) return false;
    if (ns->path.empty()) return true;
    struct stat joined, ours;
    if (::stat(ns->path.c_str(), &joined) != 0 || ::stat("/proc/self/ns/net", &ours) != 0) return true;
    return !(joined.st_ino == ours.st_ino && joined.st_dev == ours.st_dev);
}

std::vector<std::string> writable_mount_destinations(const spec::Config& config) {
    std::vector<std::string> writable;
    for (const auto& mount : config.mounts) {
        if (mount.type == "proc" || mount.type == "sysfs" || mount.type == "cgroup" || mount.type == "cgroup2")
            continue;
        if (os::parse_mount_options(mount.options).flags & 1 /* MS_RDONLY */) continue;
        writable.push_back(mount.destination);
    }
    return writable;
}

// The flags as tether-netd will read them ("1500ms"), after the same check it
// makes, so that a bad value fails create before anything exists and names
// tether's own flag rather than failing a hook.
std::vector<std::string> netd_proxy_timeout_args(const ProxyTimeoutFlags& flags) {
    std::vector<std::string> args;
    auto add = [&](const char* flag, const char* env, const std::string& value) {
        if (value.empty()) return;
        try {
            auto parsed = spec::parse_duration(value, flag, hooks::protocol::kMaxProxyTimeout);
            args.insert(args.end(), {flag, spec::duration_to_string(parsed)});
        } catch (const std::exception& e) {
            throw Error(std::string(e.what()) + " (from " + flag + " or " + env + ")");
        }
    };
    add(hooks::protocol::kProxyRequestHeadTimeoutFlag, "TETHER_PROXY_REQUEST_HEAD_TIMEOUT", flags.request_head);
    add(hooks::protocol::kProxyIdleTimeoutFlag, "TETHER_PROXY_IDLE_TIMEOUT", flags.idle);
    return args;
}

// The programs from <state root>/.tether-seccomp-cache, compiled and stored
// there on a miss (once per tether binary, kernel and inputs). state_dir is
// <state root>/<id>. The cache is an optimisation: any failure of it leaves
// the compiling to the init, as without it.
std::optional<SandboxFilters> cached_sandbox_filters(const SandboxSetup& setup, const std::string& state_dir) {
    const size_t slash = state_dir.find_last_of('/');
    if (slash == std::string::npos || slash == 0) return std::nullopt;
    const sandbox::SeccompCache cache(sandbox::seccomp_cache_dir(state_dir.substr(0, slash)));
    try {
        SandboxFilters filters;
        // The inputs string names every argument a program is compiled
        // from: a new argument must be added to it, or one policy's program
        // would be loaded for another.
        const bool audit = setup.policy.audit();
        filters.closures = cache.get_or_compile(audit ? "closures-audit" : "closures", audit ? "audit=1" : "audit=0",
                                                [&] { return sandbox::compile_seccomp_closures(audit); });
        if (setup.supervised)
            filters.notify = cache.get_or_compile("notify", "", [] { return sandbox::compile_network_notify_filter(); });
        return filters;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

void add_unique(std::vector<std::string>& list, const std::string& value) {
    for (const auto& existing : list)
        if (existing == value) return;
    list.push_back(value);
}

}  // namespace

std::string find_netd_binary() {
    if (const char* env = std::getenv("TETHER_NETD"); env && *env) return env;
    char self[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        std::string dir(self);
        dir = dir.substr(0, dir.find_last_of('/'));
        for (const std::string& candidate : {dir + "/tether-netd", dir + "/../libexec/tether/tether-netd"})
            if (is_executable(candidate)) return fs::absolute_path(candidate);
    }
    throw Error("tether-netd not found next to tether or in ../libexec/tether (set TETHER_NETD)");
}

std::optional<SandboxSetup> prepare_sandbox(spec::Config& config, const os::NamespacePlan& namespaces,
                                            const std::string& state_dir, const std::string& default_policy_path,
                                            const std::string& admin_config_path,
                                            const ProxyTimeoutFlags& proxy_timeouts) {
    std::vector<std::string> timeout_args = netd_proxy_timeout_args(proxy_timeouts);
    std::optional<std::string> default_policy;
    if (!default_policy_path.empty()) default_policy = fs::read_file(default_policy_path, 1024 * 1024);
    SandboxSetup setup;
    spec::AdminConfig admin = load_admin_config(admin_config_path);
    setup.admin_config_path = admin.source;
    try {
        setup.policy = spec::parse_policy(config.annotations, default_policy, read_policy_file, admin);
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw Error(std::string("sandbox policy: ") + e.what());
    }
    if (!setup.policy.active()) return std::nullopt;

    spec::Linux& linux = *config.linux_;
    spec::Process& process = *config.process;
    process.no_new_privileges = true;
    for (const auto& path : setup.policy.filesystem.deny_read) add_unique(linux.masked_paths, path);
    for (const auto& path : setup.policy.filesystem.deny_write) add_unique(linux.readonly_paths, path);

    bool own_net = has_own_network_namespace(config);
    setup.supervised = setup.policy.network.enabled;
    if (setup.supervised && linux.seccomp && security::uses_notify(*linux.seccomp))
        throw Error("linux.seccomp: a profile with SCMP_ACT_NOTIFY cannot be combined with a run.tether.network.* "
                    "policy: a seccomp filter chain carries one listener, and the sandbox's supervisor needs it");

    sandbox::LandlockInputs& inputs = setup.landlock_inputs;
    const char* pretend = std::getenv("TETHER_TEST_LANDLOCK_ABI");  // the runtime's environment, never the container's
    inputs.abi = sandbox::landlock_abi(sandbox::parse_test_landlock_abi(pretend));
    inputs.rootfs_writable = !(config.root && config.root->readonly);
    inputs.writable_mounts = writable_mount_destinations(config);
    inputs.own_network_namespace = own_net;
    inputs.shares_host_pid_namespace = !namespaces.has(spec::NamespaceType::pid);
    if (setup.policy.network.allow_dns) inputs.dns_port = 53;
    // Fail before anything exists when the kernel cannot enforce the policy
    // (the proxy port does not change which features are needed).
    sandbox::LandlockPlan provisional = sandbox::plan_landlock(setup.policy, inputs);
    sandbox::require_landlock_features(provisional, setup.policy.sandbox.best_effort);
    for (const auto& missing : provisional.missing_features) log::warning("sandbox (bestEffort): " + missing);
    // e.g. audit mode: "Landlock has no permissive mode; not applied".
    for (const auto& note : provisional.notes) log::warning("sandbox: " + note);

    if (setup.supervised) {
        setup.netd_path = find_netd_binary();
        spec::Hook hook;
        hook.path = setup.netd_path;
        // --runtime tether: the daemon will get the seccomp listener and the
        // init applies Landlock; without it (hooks.d under runc/crun) it refuses.
        hook.args = {"tether-netd", "--runtime", "tether", "--state-dir", state_dir};
        // The daemon is a fork of this hook process and maps its code again
        // as it runs it: with every symbol bound before the fork, it never
        // walks libc's symbol tables (0.25 MB less RSS per sandbox, issue 23).
        hook.env.push_back("LD_BIND_NOW=1");
        // Tests only: the runtime's own environment may switch the cgroup
        // socket programs off, to show what an attack does without them
        // (the container's config cannot: this hook is built here).
        if (const char* knob = std::getenv("TETHER_TEST_SOCKET_BPF"); knob && *knob)
            hook.env.push_back(std::string("TETHER_TEST_SOCKET_BPF=") + knob);
        if (!default_policy_path.empty()) {
            hook.args.push_back("--default-policy");
            hook.args.push_back(fs::absolute_path(default_policy_path));
        }
        if (!setup.admin_config_path.empty()) {
            hook.args.push_back("--admin-config");
            hook.args.push_back(setup.admin_config_path);
        }
        hook.args.insert(hook.args.end(), timeout_args.begin(), timeout_args.end());
        config.hooks.prestart.insert(config.hooks.prestart.begin(), hook);
    }
    setup.filters = cached_sandbox_filters(setup, state_dir);
    return setup;
}

SandboxFilters compile_sandbox_filters(const SandboxSetup& setup) {
    if (setup.filters) return *setup.filters;
    SandboxFilters filters;
    filters.closures = sandbox::compile_seccomp_closures(setup.policy.audit());
    if (setup.supervised) filters.notify = sandbox::compile_network_notify_filter();
    return filters;
}

void apply_sandbox_in_init(const SandboxSetup& setup, std::optional<uint16_t> proxy_port, os::SyncChannel& channel,
                           const SandboxFilters* compiled) {
    sandbox::LandlockInputs inputs = setup.landlock_inputs;
    inputs.proxy_port = proxy_port;
    inputs.network_in_kernel = setup.kernel_enforced;
    sandbox::LandlockPlan plan = sandbox::plan_landlock(setup.policy, inputs);
    sandbox::require_landlock_features(plan, setup.policy.sandbox.best_effort);
    sandbox::apply_landlock(plan);
    SandboxFilters compiled_here;
    if (!compiled) {
        compiled_here = compile_sandbox_filters(setup);
        compiled = &compiled_here;
    }
    // The closures go in before any profile of the config's own, which may
    // forbid seccomp(2) itself.
    sandbox::load_compiled_closures(compiled->closures);
    if (setup.supervised && !setup.kernel_enforced) {
        UniqueFd listener = sandbox::load_network_notify_program(compiled->notify);
        // Only the number travels: a sendmsg would be trapped by the filter
        // we just loaded. The parent takes it with pidfd_getfd.
        os::send_message(channel, os::ListenerFdMessage{os::ListenerKind::netd, listener.get()});
        channel.expect(os::SyncType::listener_taken);
    }
}

}  // namespace tether
