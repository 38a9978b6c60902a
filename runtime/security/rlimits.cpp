// process.rlimits -> setrlimit.
#include <sys/resource.h>

#include <array>
#include <utility>

#include "runtime/core/error.hpp"
#include "runtime/security/process_attributes.hpp"

namespace tether::security {
namespace {

constexpr std::array<std::pair<const char*, int>, 16> kRlimits{{
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_STACK", RLIMIT_STACK},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
}};

std::string describe(const spec::Rlimit& limit) {
    return limit.type + " (soft " + std::to_string(limit.soft) + ", hard " +
           std::to_string(limit.hard) + ")";
}

}  // namespace

int rlimit_resource_from_name(const std::string& name) {
    for (const auto& [known, resource] : kRlimits)
        if (name == known) return resource;
    return -1;
}

void apply_rlimits(const std::vector<spec::Rlimit>& rlimits) {
    for (const auto& limit : rlimits) {
        int resource = rlimit_resource_from_name(limit.type);
        if (resource < 0) throw Error("process.rlimits: unknown rlimit type \"" + limit.type + "\"");
        // The kernel would say EINVAL; say which limit and why instead.
        if (limit.soft > limit.hard)
            throw Error("process.rlimits: " + describe(limit) +
                        ": the soft limit is above the hard limit");
        // uint64 max is RLIM_INFINITY, the same bit pattern as the JSON value
        // runc and crun write for "unlimited".
        struct rlimit value{static_cast<rlim_t>(limit.soft), static_cast<rlim_t>(limit.hard)};
        if (setrlimit(resource, &value) == 0) continue;
        int err = errno;
        struct rlimit current{};
        getrlimit(resource, &current);
        if (err == EPERM)
            throw Error("setrlimit " + describe(limit) +
                            ": the hard limit is above the runtime's own hard limit " +
                            (current.rlim_max == RLIM_INFINITY ? std::string("unlimited")
                                                              : std::to_string(current.rlim_max)) +
                            (resource == RLIMIT_NOFILE ? " (or fs.nr_open)" : "") +
                            " and raising it needs CAP_SYS_RESOURCE",
                        err);
        throw Error("setrlimit " + describe(limit), err);
    }
}

}  // namespace tether::security
