// linux.sysctl: validation against the container's namespaces, then writes.
#include "runtime/security/sysctl.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "runtime/core/error.hpp"
#include "runtime/core/unique_fd.hpp"

namespace tether::security {
namespace {

bool starts_with(const std::string& text, const char* prefix) {
    return text.rfind(prefix, 0) == 0;
}

// Keys the IPC namespace isolates (ipc/ipc_sysctl.c, ipc/mq_sysctl.c).
bool is_ipc_sysctl(const std::string& key) {
    return starts_with(key, "kernel.shm") || starts_with(key, "kernel.msg") ||
           starts_with(key, "kernel.sem") || starts_with(key, "fs.mqueue.");
}

}  // namespace

std::string sysctl_relative_path(const std::string& key) {
    if (key.empty()) throw Error("linux.sysctl: empty key");
    if (key.find('/') != std::string::npos)
        throw Error("linux.sysctl: \"" + key + "\": keys use '.' as separator, not '/'");
    std::string path = key;
    for (auto& c : path)
        if (c == '.') c = '/';
    // "net..x" or ".net" would produce an empty component: refuse rather than
    // let "/proc/sys//" style paths reach anything but the intended file.
    if (path.front() == '/' || path.back() == '/' || path.find("//") != std::string::npos)
        throw Error("linux.sysctl: \"" + key + "\": empty component in key");
    return path;
}

void validate_sysctls(const std::map<std::string, std::string>& sysctls, bool own_net,
                      bool own_ipc, bool own_uts) {
    for (const auto& [key, value] : sysctls) {
        sysctl_relative_path(key);
        // Writing a sysctl the container does not own a namespace for would
        // change the host for everyone: refuse each such case by name.
        if (is_ipc_sysctl(key)) {
            if (!own_ipc)
                throw Error("linux.sysctl: \"" + key +
                            "\" is not allowed in the host's IPC namespace");
            continue;
        }
        if (starts_with(key, "net.")) {
            if (!own_net)
                throw Error("linux.sysctl: \"" + key +
                            "\" is not allowed in the host's network namespace");
            continue;
        }
        if (key == "kernel.hostname" || key == "kernel.domainname") {
            if (!own_uts)
                throw Error("linux.sysctl: \"" + key +
                            "\" is not allowed in the host's UTS namespace");
            continue;
        }
        throw Error("linux.sysctl: \"" + key + "\" is not in a separate kernel namespace");
    }
}

void apply_sysctls(const std::map<std::string, std::string>& sysctls, const ProcFs& procfs) {
    // Never by path in the container's /proc: a mount over /proc/sys/net
    // would take the value (CVE-2025-52881, procfs.hpp).
    for (const auto& [key, value] : sysctls)
        procfs.write("sys/" + sysctl_relative_path(key), value, "linux.sysctl \"" + key + "\"");
}

}  // namespace tether::security
