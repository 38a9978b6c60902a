// Rules that span several fields of config.json, checked after every field
// parsed on its own. The same rules runc's validator applies: each one stops
// a config from silently changing the host instead of the container.
#include <string>

#include "spec/parse_parts.hpp"

namespace tether::spec {

namespace {

bool has_namespace(const Config& config, NamespaceType type) {
    return config.linux_ && config.linux_->find_namespace(type) != nullptr;
}

bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

// The IPC sysctls the kernel namespaces (ipc_namespaces(7)).
bool is_ipc_sysctl(const std::string& key) {
    static const char* const ipc_keys[] = {"kernel.msgmax", "kernel.msgmnb",  "kernel.msgmni",
                                           "kernel.sem",    "kernel.shmall",  "kernel.shmmax",
                                           "kernel.shmmni", "kernel.shm_rmid_forced"};
    for (const char* k : ipc_keys)
        if (key == k) return true;
    return starts_with(key, "fs.mqueue.");
}

// A sysctl is written through the container's /proc/sys, which is the
// host's for every key the container has no namespace of its own for:
// without these checks "kernel.core_pattern" or "net.ipv4.ip_forward" in a
// config would reconfigure the host.
void check_sysctl(const Config& config, const std::string& key) {
    std::string where = "linux.sysctl." + key;
    auto require = [&](NamespaceType type) {
        if (!has_namespace(config, type))
            throw ParseError(where + ": needs the container's own " + namespace_type_name(type) +
                             " namespace, else it would change the host");
    };
    if (is_ipc_sysctl(key)) return require(NamespaceType::ipc);
    if (starts_with(key, "net.")) return require(NamespaceType::network);
    if (key == "kernel.hostname" || key == "kernel.domainname") return require(NamespaceType::uts);
    throw ParseError(where + ": not namespaced by the kernel, a container may not set it");
}

}  // namespace

void check_config_consistency(const Config& config) {
    // sethostname() without a UTS namespace would rename the host.
    if (!config.hostname.empty() && !has_namespace(config, NamespaceType::uts))
        throw ParseError("hostname: needs a uts namespace in linux.namespaces");
    if (!config.domainname.empty() && !has_namespace(config, NamespaceType::uts))
        throw ParseError("domainname: needs a uts namespace in linux.namespaces");
    if (!config.linux_) return;
    const Linux& l = *config.linux_;
    const Namespace* user = l.find_namespace(NamespaceType::user);
    if (!user && !l.uid_mappings.empty())
        throw ParseError("linux.uidMappings: needs a user namespace in linux.namespaces");
    if (!user && !l.gid_mappings.empty())
        throw ParseError("linux.gidMappings: needs a user namespace in linux.namespaces");
    // A new user namespace without mappings leaves every id unmapped (the
    // process would run as the overflow uid with no way to write files).
    if (user && user->path.empty() && l.uid_mappings.empty())
        throw ParseError("linux.uidMappings: a new user namespace needs at least one uid mapping");
    if (user && user->path.empty() && l.gid_mappings.empty())
        throw ParseError("linux.gidMappings: a new user namespace needs at least one gid mapping");
    for (const auto& [key, value] : l.sysctl) check_sysctl(config, key);
    // Offsets are written to /proc/self/timens_offsets of a new time namespace.
    if (!l.time_offsets.empty() && !has_namespace(config, NamespaceType::time))
        throw ParseError("linux.timeOffsets: needs a time namespace in linux.namespaces");
    // Moving an interface into the host's own network namespace moves nothing:
    // refuse rather than leave the device where the host uses it.
    if (!l.net_devices.empty() && !has_namespace(config, NamespaceType::network))
        throw ParseError("linux.netDevices: needs a network namespace in linux.namespaces");
}

}  // namespace tether::spec
