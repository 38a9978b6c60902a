#include "runtime/linux/namespaces.hpp"

#include <fcntl.h>
#include <sched.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstring>
#include <unistd.h>

#include "runtime/core/error.hpp"
#include "runtime/core/fs.hpp"

namespace tether::os {

int clone_flag(spec::NamespaceType type) {
    switch (type) {
        case spec::NamespaceType::pid: return CLONE_NEWPID;
        case spec::NamespaceType::network: return CLONE_NEWNET;
        case spec::NamespaceType::mount: return CLONE_NEWNS;
        case spec::NamespaceType::ipc: return CLONE_NEWIPC;
        case spec::NamespaceType::uts: return CLONE_NEWUTS;
        case spec::NamespaceType::user: return CLONE_NEWUSER;
        case spec::NamespaceType::cgroup: return CLONE_NEWCGROUP;
        case spec::NamespaceType::time: return CLONE_NEWTIME;
    }
    return 0;
}

bool NamespacePlan::has(spec::NamespaceType type) const {
    for (auto t : present)
        if (t == type) return true;
    return false;
}

NamespacePlan plan_namespaces(const std::vector<spec::Namespace>& namespaces) {
    NamespacePlan plan;
    for (const auto& ns : namespaces) {
        plan.present.push_back(ns.type);
        if (ns.path.empty()) {
            plan.new_flags |= static_cast<unsigned long>(clone_flag(ns.type));
            if (ns.type == spec::NamespaceType::user) plan.new_user = true;
            continue;
        }
        UniqueFd fd(::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd)
            throw_errno(std::string("linux.namespaces: open ") + spec::namespace_type_name(ns.type) +
                        " namespace " + ns.path);
        JoinedNamespace joined{ns.type, ns.path, std::move(fd)};
        // The user namespace is joined first: it decides what we may do in the others.
        if (ns.type == spec::NamespaceType::user)
            plan.joins.insert(plan.joins.begin(), std::move(joined));
        else
            plan.joins.push_back(std::move(joined));
    }
    return plan;
}

static bool affects_children_only(spec::NamespaceType type) { return clone_flag(type) & kChildrenOnlyNamespaces; }

ChildNamespaces join_namespaces_for_children(NamespacePlan& plan) {
    ChildNamespaces previous;
    for (auto& joined : plan.joins) {
        if (!affects_children_only(joined.type)) continue;
        std::string own = std::string("/proc/self/ns/") + spec::namespace_type_name(joined.type) + "_for_children";
        UniqueFd saved(::open(own.c_str(), O_RDONLY | O_CLOEXEC));
        if (!saved) throw_errno("open " + own);
        if (::setns(joined.fd.get(), clone_flag(joined.type)) != 0)
            throw_errno(std::string("setns ") + spec::namespace_type_name(joined.type) + " " + joined.path);
        previous.saved_.emplace_back(clone_flag(joined.type), std::move(saved));
    }
    return previous;
}

void ChildNamespaces::restore() {
    // Back to an ancestor (our own pid namespace) is always allowed.
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it)
        if (::setns(it->second.get(), it->first) != 0) throw_errno("setns back to the runtime's namespace");
    saved_.clear();
}

ChildNamespaces::~ChildNamespaces() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) ::setns(it->second.get(), it->first);
}

void join_namespaces(NamespacePlan& plan) {
    for (auto& joined : plan.joins) {
        if (affects_children_only(joined.type)) continue;
        if (::setns(joined.fd.get(), clone_flag(joined.type)) != 0)
            throw_errno(std::string("setns ") + spec::namespace_type_name(joined.type) + " " + joined.path);
        joined.fd.reset();
    }
}

static std::string format_map(const std::vector<spec::IdMapping>& mappings) {
    std::string text;
    for (const auto& m : mappings)
        text += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " + std::to_string(m.size) + "\n";
    return text;
}

void write_id_maps(pid_t pid, const std::vector<spec::IdMapping>& uid_mappings,
                   const std::vector<spec::IdMapping>& gid_mappings, bool deny_setgroups) {
    std::string base = "/proc/" + std::to_string(pid);
    if (deny_setgroups) fs::write_file(base + "/setgroups", "deny");
    if (!uid_mappings.empty()) {
        try {
            fs::write_file(base + "/uid_map", format_map(uid_mappings));
        } catch (const Error& e) {
            throw Error(std::string("linux.uidMappings: ") + e.what());
        }
    }
    if (!gid_mappings.empty()) {
        try {
            fs::write_file(base + "/gid_map", format_map(gid_mappings));
        } catch (const Error& e) {
            throw Error(std::string("linux.gidMappings: ") + e.what());
        }
    }
}

void bring_loopback_up() {
    UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock) throw_errno("socket for bringing lo up");
    struct ifreq request {};
    std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
    if (::ioctl(sock.get(), SIOCGIFFLAGS, &request) != 0) throw_errno("SIOCGIFFLAGS lo");
    if (request.ifr_flags & IFF_UP) return;
    request.ifr_flags |= IFF_UP;
    if (::ioctl(sock.get(), SIOCSIFFLAGS, &request) != 0) throw_errno("bring lo up");
}

// The name of the namespace's file in /proc/<pid>/ns/.
static const char* proc_ns_name(spec::NamespaceType type) {
    switch (type) {
        case spec::NamespaceType::pid: return "pid";
        case spec::NamespaceType::network: return "net";
        case spec::NamespaceType::mount: return "mnt";
        case spec::NamespaceType::ipc: return "ipc";
        case spec::NamespaceType::uts: return "uts";
        case spec::NamespaceType::user: return "user";
        case spec::NamespaceType::cgroup: return "cgroup";
        case spec::NamespaceType::time: return "time";
    }
    return "";
}

static unsigned long namespace_inode(pid_t pid, spec::NamespaceType type) {
    struct stat st;
    std::string path = "/proc/" + std::to_string(pid) + "/ns/" + proc_ns_name(type);
    if (::stat(path.c_str(), &st) != 0) return 0;
    return st.st_ino;
}

int namespaces_differing_from_ours(pid_t pid) {
    using T = spec::NamespaceType;
    int flags = 0;
    pid_t self = ::getpid();
    for (T type : {T::user, T::mount, T::pid, T::network, T::ipc, T::uts, T::cgroup, T::time}) {
        unsigned long theirs = namespace_inode(pid, type);
        if (theirs != 0 && theirs != namespace_inode(self, type)) flags |= clone_flag(type);
    }
    return flags;
}

}  // namespace tether::os
