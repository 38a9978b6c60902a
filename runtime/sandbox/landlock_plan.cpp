// plan_landlock: the policy and the container's mounts and namespaces turned
// into a Landlock ruleset for a given ABI. Pure, so every downgrade is tested
// as data. The downgrades follow the kernel's samples/landlock/sandboxer.c:
// start from everything the newest ABI handles and drop what older ABIs lack.
#include <algorithm>
#include <map>

#include "runtime/core/error.hpp"
#include "runtime/core/kernel_compat.hpp"
#include "runtime/sandbox/landlock.hpp"
#include "spec/annotation_keys.hpp"

namespace tether::sandbox {
namespace {

constexpr std::uint64_t kReadAccess = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
constexpr std::uint64_t kExecuteAccess = LANDLOCK_ACCESS_FS_EXECUTE;

// Every filesystem right the given ABI can handle (sandboxer.c's switch).
std::uint64_t filesystem_access_for_abi(int abi) {
    if (abi < 1) return 0;
    std::uint64_t access = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;  // ABI 1: bits 0-12
    if (abi >= 2) access |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3) access |= LANDLOCK_ACCESS_FS_TRUNCATE;
    if (abi >= 5) access |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
    return access;
}

std::string kernel_has(int abi) {
    return abi < 1 ? "kernel has no Landlock" : "kernel has ABI " + std::to_string(abi);
}

// Whether the ranges together cover ports 1-65535. Sorted and walked
// rather than a bit set per port: this runs on every sandboxed create, and
// the 65,536-bit walk was 2% of a sandboxed `run`'s samples once the build
// stopped inlining it (-Os, issue 23).
bool covers_every_port(std::vector<spec::PortRange> ranges) {
    std::sort(ranges.begin(), ranges.end(),
              [](const spec::PortRange& a, const spec::PortRange& b) { return a.first < b.first; });
    unsigned next = 1;  // the lowest port not covered yet
    for (const auto& range : ranges) {
        if (range.first > next) return false;
        next = std::max(next, static_cast<unsigned>(range.last) + 1);
    }
    return next > 65535;
}

void add_ports(std::map<std::uint16_t, std::uint64_t>& ports,
               const std::vector<spec::PortRange>& ranges, std::uint64_t access) {
    for (const auto& range : ranges)
        for (unsigned port = range.first; port <= range.last; ++port)
            ports[static_cast<std::uint16_t>(port)] |= access;
}

void plan_filesystem(const spec::SandboxPolicy& policy, const LandlockInputs& inputs,
                     LandlockPlan& plan) {
    const auto& fs = policy.filesystem;
    plan.handled_access_fs = filesystem_access_for_abi(inputs.abi);
    // A non-empty allowExecute is the list of places execve may load from;
    // otherwise the whole (read-only) image stays executable.
    const bool execute_confined = !fs.allow_execute.empty();
    const std::uint64_t write_access =
        plan.handled_access_fs & ~(execute_confined ? kExecuteAccess : 0);

    plan.path_rules.push_back({"/", kReadAccess | (execute_confined ? 0 : kExecuteAccess), "rootfs"});
    // A non-empty allowWrite confines writes even on a writable rootfs: that is
    // the point of listing where the sandbox may write.
    if (inputs.rootfs_writable && fs.allow_write.empty())
        plan.path_rules.push_back({"/", write_access, "writable rootfs"});
    for (const auto& mount : inputs.writable_mounts)
        plan.path_rules.push_back({mount, write_access, "writable mount"});
    for (const auto& path : fs.allow_write)
        plan.path_rules.push_back({path, write_access, "allowWrite"});
    for (const auto& path : fs.allow_execute)
        plan.path_rules.push_back({path, kReadAccess | kExecuteAccess, "allowExecute"});

    if (inputs.abi < 1 && (!fs.allow_write.empty() || !fs.allow_execute.empty()))
        plan.missing_features.push_back(
            "filesystem rules (run.tether.filesystem.allowWrite/allowExecute) need Landlock ABI "
            "1, " + kernel_has(inputs.abi));
    // Before ABI 3, truncate(2) of a file outside allowWrite is not checked:
    // the sandbox could empty a file it may not write.
    if (inputs.abi >= 1 && inputs.abi < 3 && !fs.allow_write.empty())
        plan.missing_features.push_back(
            "truncate control for run.tether.filesystem.allowWrite needs Landlock ABI 3, " +
            kernel_has(inputs.abi));
    if (inputs.abi == 1)
        plan.notes.push_back("Landlock ABI 1: renames and links across directories fail (EXDEV)");
    if (inputs.abi >= 1 && inputs.abi < 5)
        plan.notes.push_back("Landlock ABI " + std::to_string(inputs.abi) +
                             ": device ioctls are not restricted (needs ABI 5)");
}

void plan_network(const spec::SandboxPolicy& policy, const LandlockInputs& inputs,
                  LandlockPlan& plan) {
    const auto& net = policy.network;
    if (!net.enabled || inputs.network_in_kernel) return;
    if (inputs.abi < 4) {
        plan.missing_features.push_back(
            "TCP port rules (run.tether.network.*) need Landlock ABI 4, " + kernel_has(inputs.abi));
        return;
    }
    std::map<std::uint16_t, std::uint64_t> ports;
    plan.handled_access_net = LANDLOCK_ACCESS_NET_CONNECT_TCP;
    add_ports(ports, net.allow_local_outbound_ports, LANDLOCK_ACCESS_NET_CONNECT_TCP);
    if (inputs.proxy_port)
        ports[*inputs.proxy_port] |= LANDLOCK_ACCESS_NET_CONNECT_TCP;
    if (net.allow_dns && inputs.dns_port) ports[*inputs.dns_port] |= LANDLOCK_ACCESS_NET_CONNECT_TCP;

    const auto bind_ports = policy.effective_bind_ports(inputs.own_network_namespace);
    if (!covers_every_port(bind_ports)) {
        plan.handled_access_net |= LANDLOCK_ACCESS_NET_BIND_TCP;
        add_ports(ports, bind_ports, LANDLOCK_ACCESS_NET_BIND_TCP);
    }
    // In its own network namespace a port the sandbox may bind is its own
    // server on its own loopback: connecting to it reaches nothing of the
    // host's. On the host's namespace the same port may be a host service.
    if (inputs.own_network_namespace && net.allow_bind_ports)
        add_ports(ports, *net.allow_bind_ports, LANDLOCK_ACCESS_NET_CONNECT_TCP);
    for (const auto& [port, access] : ports) plan.port_rules.push_back({port, access});
    if (!inputs.own_network_namespace)
        plan.notes.push_back(
            "host network: Landlock matches ports, not addresses; the supervisor decides "
            "destinations and binds of the sandbox's own loopback ports");
}

void plan_scopes(const spec::SandboxPolicy& policy, const LandlockInputs& inputs,
                 LandlockPlan& plan) {
    const bool scope_signals = policy.effective_scope_signals(inputs.shares_host_pid_namespace);
    if (inputs.abi >= 6) {
        plan.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | (scope_signals ? LANDLOCK_SCOPE_SIGNAL : 0);
        return;
    }
    // Abstract unix sockets live in the network namespace: only a sandbox on
    // the host's namespace can reach the host's (X11, dbus, containerd shims).
    if (!inputs.own_network_namespace)
        plan.missing_features.push_back(
            "abstract unix socket scoping (host network) needs Landlock ABI 6, " +
            kernel_has(inputs.abi));
    if (scope_signals)
        plan.missing_features.push_back(
            "signal scoping (run.tether.sandbox.scopeSignals, host PID namespace) needs Landlock "
            "ABI 6, " + kernel_has(inputs.abi));
}

}  // namespace

std::optional<int> parse_test_landlock_abi(const char* value) {
    if (value == nullptr || *value == '\0') return std::nullopt;
    const std::string text(value);
    if (text.size() > 2 || !std::all_of(text.begin(), text.end(), [](char c) {
            return c >= '0' && c <= '9';
        }))
        throw Error("TETHER_TEST_LANDLOCK_ABI: expected a Landlock ABI number (0-99), got \"" +
                    text + "\"");
    return std::stoi(text);
}

LandlockPlan plan_landlock(const spec::SandboxPolicy& policy, const LandlockInputs& inputs) {
    LandlockPlan plan;
    plan.abi = inputs.abi;
    if (policy.audit()) {
        plan.notes.push_back(
            "audit mode: Landlock not applied (it has no permissive mode); nothing is denied");
        return plan;
    }
    plan_filesystem(policy, inputs, plan);
    plan_network(policy, inputs, plan);
    plan_scopes(policy, inputs, plan);
    // ABI 7: log denials of the container's program too, not only of the
    // runtime code that restricted itself (the kernel's default).
    if (inputs.abi >= 7) plan.restrict_flags = LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON;
    plan.apply = inputs.abi >= 1;
    if (!plan.apply) plan.notes.push_back("Landlock not applied: " + kernel_has(inputs.abi));
    return plan;
}

void require_landlock_features(const LandlockPlan& plan, bool best_effort) {
    if (plan.missing_features.empty() || best_effort) return;
    std::string message = "sandbox: the kernel lacks what the policy needs: ";
    for (std::size_t i = 0; i < plan.missing_features.size(); ++i)
        message += (i ? "; " : "") + plan.missing_features[i];
    message += std::string(" (") + spec::keys::kBestEffort + "=true runs it anyway)";
    throw Error(message);
}

}  // namespace tether::sandbox
