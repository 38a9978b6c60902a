// The Landlock syscalls: ABI detection and enforcing a plan on the calling
// thread. Everything that decides lives in landlock_plan.cpp.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "runtime/core/error.hpp"
#include "runtime/core/kernel_compat.hpp"
#include "runtime/core/unique_fd.hpp"
#include "runtime/sandbox/landlock.hpp"

namespace tether::sandbox {
namespace {

// Rights that make sense on a file (not a directory); the kernel refuses a
// rule on a file that carries directory-only rights (as sandboxer.c masks).
constexpr std::uint64_t kFileAccess = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                      LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
                                      LANDLOCK_ACCESS_FS_IOCTL_DEV;

int landlock_create_ruleset(const void* attr, std::size_t size, std::uint32_t flags) {
    return static_cast<int>(::syscall(SYS_landlock_create_ruleset, attr, size, flags));
}

int landlock_add_rule(int ruleset_fd, int rule_type, const void* attr) {
    return static_cast<int>(::syscall(SYS_landlock_add_rule, ruleset_fd, rule_type, attr, 0));
}

int landlock_restrict_self(int ruleset_fd, std::uint32_t flags) {
    return static_cast<int>(::syscall(SYS_landlock_restrict_self, ruleset_fd, flags));
}

// The ruleset attr as long as the ABI knows it, so that an old kernel never
// sees members it does not know (it would accept zeros, but this is plainer).
std::size_t ruleset_attr_size(int abi) {
    using Attr = kernel::landlock_ruleset_attr_v6;
    if (abi < 4) return offsetof(Attr, handled_access_net);
    if (abi < 6) return offsetof(Attr, scoped);
    return sizeof(Attr);
}

void add_path_rule(int ruleset_fd, const LandlockPathRule& rule, std::uint64_t handled) {
    UniqueFd path_fd(::open(rule.path.c_str(), O_PATH | O_CLOEXEC));
    // A path the image does not have grants nothing: there is nothing there
    // to write or run (and the sandbox cannot create it outside its grants).
    if (!path_fd && errno == ENOENT) return;
    if (!path_fd) throw_errno("landlock: open " + rule.path + " (" + rule.reason + ")");
    struct stat status {};
    if (::fstat(path_fd.get(), &status) != 0)
        throw_errno("landlock: fstat " + rule.path + " (" + rule.reason + ")");
    std::uint64_t access = rule.allowed_access & handled;
    if (!S_ISDIR(status.st_mode)) access &= kFileAccess;
    if (access == 0) return;  // nothing this ABI can grant here
    landlock_path_beneath_attr attr{};
    attr.allowed_access = access;
    attr.parent_fd = path_fd.get();
    if (landlock_add_rule(ruleset_fd, LANDLOCK_RULE_PATH_BENEATH, &attr) != 0)
        throw_errno("landlock_add_rule " + rule.path + " (" + rule.reason + ")");
}

void add_port_rule(int ruleset_fd, const LandlockPortRule& rule, std::uint64_t handled) {
    landlock_net_port_attr attr{};
    attr.allowed_access = rule.allowed_access & handled;
    attr.port = rule.port;
    if (attr.allowed_access == 0) return;
    if (landlock_add_rule(ruleset_fd, LANDLOCK_RULE_NET_PORT, &attr) != 0)
        throw_errno("landlock_add_rule TCP port " + std::to_string(rule.port));
}

}  // namespace

int kernel_landlock_abi() {
    const int abi = landlock_create_ruleset(nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi >= 0) return abi;
    if (errno == ENOSYS || errno == EOPNOTSUPP) return 0;  // not built in / not enabled at boot
    throw_errno("landlock_create_ruleset(LANDLOCK_CREATE_RULESET_VERSION)");
}

int landlock_abi(std::optional<int> pretend_at_most) {
    const int abi = kernel_landlock_abi();
    return pretend_at_most ? std::min(abi, *pretend_at_most) : abi;
}

void apply_landlock(const LandlockPlan& plan) {
    if (!plan.apply) return;
    kernel::landlock_ruleset_attr_v6 attr{};
    attr.handled_access_fs = plan.handled_access_fs;
    attr.handled_access_net = plan.handled_access_net;
    attr.scoped = plan.scoped;
    UniqueFd ruleset(landlock_create_ruleset(&attr, ruleset_attr_size(plan.abi), 0));
    if (!ruleset)
        throw_errno("landlock_create_ruleset (ABI " + std::to_string(plan.abi) + ")");
    for (const auto& rule : plan.path_rules)
        add_path_rule(ruleset.get(), rule, plan.handled_access_fs);
    for (const auto& rule : plan.port_rules)
        add_port_rule(ruleset.get(), rule, plan.handled_access_net);
    if (landlock_restrict_self(ruleset.get(), plan.restrict_flags) != 0)
        throw_errno("landlock_restrict_self");
}

}  // namespace tether::sandbox
