#include "spec/vocabulary.hpp"

#include <sys/resource.h>

namespace tether::spec {

bool list_contains(const NameList& list, std::string_view name) {
    for (auto n : list)
        if (n == name) return true;
    return false;
}

namespace {
struct RlimitEntry {
    std::string_view name;
    int resource;
};
const std::vector<RlimitEntry>& rlimit_table() {
    static const std::vector<RlimitEntry> table = {
        {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},
        {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_DATA", RLIMIT_DATA},
        {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
        {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
        {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
        {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
        {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
    };
    return table;
}
}  // namespace

const NameList& rlimit_names() {
    static const NameList names = [] {
        NameList out;
        for (const auto& e : rlimit_table()) out.push_back(e.name);
        return out;
    }();
    return names;
}

std::optional<int> rlimit_resource(std::string_view name) {
    for (const auto& e : rlimit_table())
        if (e.name == name) return e.resource;
    return std::nullopt;
}

const NameList& seccomp_action_names() {
    static const NameList names = {
        "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO",
        "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW",        "SCMP_ACT_LOG",         "SCMP_ACT_NOTIFY",
    };
    return names;
}

const NameList& seccomp_operator_names() {
    static const NameList names = {
        "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
    };
    return names;
}

const NameList& seccomp_arch_names() {
    // The runtime-spec's list (config-linux.md); whether libseccomp on this
    // host knows one is the runtime's business, not the parser's.
    static const NameList names = {
        "SCMP_ARCH_X86",         "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",     "SCMP_ARCH_ARM",
        "SCMP_ARCH_AARCH64",     "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",  "SCMP_ARCH_MIPS64N32",
        "SCMP_ARCH_MIPSEL",      "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
        "SCMP_ARCH_PPC64",       "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",    "SCMP_ARCH_S390X",
        "SCMP_ARCH_PARISC",      "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64",
        "SCMP_ARCH_M68K",        "SCMP_ARCH_SH",       "SCMP_ARCH_SHEB",
    };
    return names;
}

const NameList& seccomp_flag_names() {
    static const NameList names = {
        "SECCOMP_FILTER_FLAG_TSYNC",
        "SECCOMP_FILTER_FLAG_LOG",
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    };
    return names;
}

const NameList& hook_names() {
    static const NameList names = {
        "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
    };
    return names;
}

const NameList& namespace_type_names() {
    // Same order as enum NamespaceType.
    static const NameList names = {"pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"};
    return names;
}

std::optional<NamespaceType> namespace_type_from_name(std::string_view name) {
    const auto& names = namespace_type_names();
    for (size_t i = 0; i < names.size(); ++i)
        if (names[i] == name) return static_cast<NamespaceType>(i);
    return std::nullopt;
}

const char* namespace_type_name(NamespaceType type) {
    auto index = static_cast<size_t>(type);
    const auto& names = namespace_type_names();
    return index < names.size() ? names[index].data() : "unknown";
}

const NameList& rootfs_propagation_names() {
    static const NameList names = {"",        "shared",  "slave",  "private",  "unbindable",
                                   "rshared", "rslave", "rprivate", "runbindable"};
    return names;
}

const NameList& known_mount_options() {
    // The options runc 1.1 advertises. idmap/ridmap (1.2) join when idmapped
    // mounts are implemented (features: linux.mountExtensions.idmap).
    static const NameList names = {
        "acl",        "async",      "atime",        "bind",       "defaults",   "dev",         "diratime",
        "dirsync",    "exec",       "iversion",   "lazytime",   "loud",        "mand",
        "noacl",      "noatime",    "nodev",        "nodiratime", "noexec",     "noiversion",  "nolazytime",
        "nomand",     "norelatime", "nostrictatime", "nosuid",    "nosymfollow", "private",    "ratime",
        "rbind",      "rdev",       "rdiratime",    "relatime",   "remount",    "rexec",
        "rnoatime",   "rnodev",     "rnodiratime",  "rnoexec",    "rnorelatime", "rnostrictatime", "rnosuid",
        "rnosymfollow", "ro",       "rprivate",     "rrelatime",  "rro",        "rrw",         "rshared",
        "rslave",     "rstrictatime", "rsuid",      "rsymfollow", "runbindable", "rw",         "shared",
        "silent",     "slave",      "strictatime",  "suid",       "symfollow",  "sync",        "tmpcopyup",
        "unbindable",
    };
    return names;
}

}  // namespace tether::spec
