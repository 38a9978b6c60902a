#include "spec/default_config.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

namespace tether::spec {

namespace {

using ordered_json = nlohmann::ordered_json;

ordered_json mount(const char* destination, const char* type, const char* source,
                   std::vector<std::string> options = {}) {
    ordered_json m;
    m["destination"] = destination;
    m["type"] = type;
    m["source"] = source;
    if (!options.empty()) m["options"] = options;
    return m;
}

ordered_json process_object() {
    const std::vector<std::string> caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
    ordered_json p;
    p["terminal"] = true;
    p["user"] = ordered_json{{"uid", 0}, {"gid", 0}};
    p["args"] = {"sh"};
    p["env"] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"};
    p["cwd"] = "/";
    p["capabilities"] = ordered_json{{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}};
    p["rlimits"] = ordered_json::array({ordered_json{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}});
    p["noNewPrivileges"] = true;
    return p;
}

ordered_json mounts_array(bool rootless) {
    std::vector<std::string> devpts = {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"};
    if (!rootless) devpts.push_back("gid=5");  // the tty group: unmapped in a rootless user namespace
    ordered_json mounts = ordered_json::array();
    mounts.push_back(mount("/proc", "proc", "proc"));
    mounts.push_back(mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}));
    mounts.push_back(mount("/dev/pts", "devpts", "devpts", devpts));
    mounts.push_back(mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}));
    mounts.push_back(mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}));
    if (rootless)  // sysfs needs an own network namespace, which rootless lacks: bind the host's
        mounts.push_back(mount("/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"}));
    else
        mounts.push_back(mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}));
    mounts.push_back(mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}));
    return mounts;
}

ordered_json namespaces_array(bool rootless) {
    std::vector<const char*> types = rootless ? std::vector<const char*>{"pid", "ipc", "uts", "mount", "user"}
                                              : std::vector<const char*>{"pid", "network", "ipc", "uts", "mount"};
    ordered_json namespaces = ordered_json::array();
    for (const char* type : types) namespaces.push_back(ordered_json{{"type", type}});
    return namespaces;
}

ordered_json linux_object(bool rootless, uint32_t host_uid, uint32_t host_gid) {
    ordered_json l;
    if (rootless) {
        l["uidMappings"] = ordered_json::array({ordered_json{{"containerID", 0}, {"hostID", host_uid}, {"size", 1}}});
        l["gidMappings"] = ordered_json::array({ordered_json{{"containerID", 0}, {"hostID", host_gid}, {"size", 1}}});
    } else {
        // Deny every device; the runtime adds rules for the default devices itself.
        l["resources"] = ordered_json{
            {"devices", ordered_json::array({ordered_json{{"allow", false}, {"access", "rwm"}}})}};
    }
    l["namespaces"] = namespaces_array(rootless);
    l["maskedPaths"] = {"/proc/acpi",     "/proc/asound",     "/proc/kcore",       "/proc/keys",
                        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
                        "/sys/firmware",  "/proc/scsi"};
    l["readonlyPaths"] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
    return l;
}

}  // namespace

std::string default_config_json(bool rootless, uint32_t host_uid, uint32_t host_gid) {
    ordered_json config;
    config["ociVersion"] = "1.0.2-dev";  // what runc 1.1 writes; every 1.x runtime accepts it
    config["process"] = process_object();
    config["root"] = ordered_json{{"path", "rootfs"}, {"readonly", true}};
    config["hostname"] = "runc";  // runc's default, kept so `tether spec` and `runc spec` bundles are identical
    config["mounts"] = mounts_array(rootless);
    config["linux"] = linux_object(rootless, host_uid, host_gid);
    return config.dump(1, '\t');
}

std::string default_config_json(bool rootless) {
    // geteuid/getegid cannot fail and change nothing: the one harmless
    // exception to spec/'s no-syscall rule, so callers need not pass them.
    return default_config_json(rootless, geteuid(), getegid());
}

}  // namespace tether::spec
