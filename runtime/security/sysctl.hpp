// linux.sysctl: only keys that are namespaced by a namespace the container
// owns may be written, otherwise the container would change the host.
#pragma once

#include <map>
#include <string>

#include "runtime/security/procfs.hpp"

namespace tether::security {

// Pure check, run before anything is created. own_net / own_ipc / own_uts:
// whether the container has its own (not the runtime's) network, IPC and UTS
// namespace. Allowed: net.* with own_net; kernel.shm*, kernel.msg*,
// kernel.sem* and fs.mqueue.* with own_ipc; kernel.hostname and
// kernel.domainname with own_uts. Anything else is refused, like runc.
// Throws tether::Error naming the key.
void validate_sysctls(const std::map<std::string, std::string>& sysctls, bool own_net,
                      bool own_ipc, bool own_uts);

// Writes each value to /proc/sys/<key with '.' replaced by '/'> of `procfs`
// (the runtime's own, see procfs.hpp). Call after validate_sysctls, inside
// the container's namespaces.
void apply_sysctls(const std::map<std::string, std::string>& sysctls, const ProcFs& procfs);

// "net.ipv4.ip_forward" -> "net/ipv4/ip_forward"; throws on keys that are
// empty, contain '/' or have empty components (which would walk the tree).
std::string sysctl_relative_path(const std::string& key);

}  // namespace tether::security
