#include "hooks/bpf/socket_enforcement.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "hooks/bpf/program_policy.hpp"
#include "hooks/bpf/socket_programs.hpp"
#include "runtime/core/bpf_syscall.hpp"
#include "runtime/core/error.hpp"
#include "runtime/core/user_namespace.hpp"

namespace tether::hooks::bpf {

using tether::bpf::attach_program;
using tether::bpf::detach_program;
using tether::bpf::map_update;
using tether::bpf::program_id;

namespace {

// "/x/y" from the "0::/x/y" line of /proc/<pid>/cgroup; "" when there is none.
std::string cgroup2_path_of(const std::string& proc_cgroup) {
    std::ifstream in(proc_cgroup);
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("0::", 0) == 0) return line.substr(3);
    return "";
}

}  // namespace

std::string cgroup2_mount_point() {
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
        // id parent major:minor root mount-point options [optional...] - fstype source super
        auto dash = line.find(" - ");
        if (dash == std::string::npos) continue;
        std::istringstream tail(line.substr(dash + 3));
        std::string fstype;
        tail >> fstype;
        if (fstype != "cgroup2") continue;
        std::istringstream head(line.substr(0, dash));
        std::string id, parent, device, root, mount_point;
        head >> id >> parent >> device >> root >> mount_point;
        if (root == "/") return mount_point;
    }
    return "";
}

std::string container_cgroup2_dir(pid_t pid) {
    std::string mount = cgroup2_mount_point();
    if (mount.empty()) throw Error("no cgroup v2 hierarchy is mounted (a cgroup v1-only host)");
    std::string path = cgroup2_path_of("/proc/" + std::to_string(pid) + "/cgroup");
    if (path.empty()) throw Error("the container's init has no cgroup v2 path in /proc/" + std::to_string(pid) + "/cgroup");
    // Programs on the root cgroup, or on a cgroup the container shares with
    // the runtime's own processes, would apply to processes that are not the
    // container's.
    if (path == "/") throw Error("the container's init is in the root cgroup v2 (no cgroup of its own)");
    if (path == cgroup2_path_of("/proc/self/cgroup"))
        throw Error("the container's init shares tether-netd's cgroup v2 " + path + " (no cgroup of its own)");
    return mount + path;
}

void require_initial_user_namespace(const std::string& uid_map) {
    if (!uid_map_is_user_namespace(uid_map)) return;
    auto outside = uid_outside(uid_map, ::geteuid());
    std::string who = outside ? "; uid " + std::to_string(::geteuid()) + " here is uid " + std::to_string(*outside) +
                                    " outside"
                              : "";
    throw Error("tether-netd runs in a user namespace (rootless" + who +
                "), and the kernel loads cgroup socket programs only for CAP_BPF and CAP_NET_ADMIN in the initial "
                "user namespace");
}

SocketEnforcement SocketEnforcement::attach(const SocketRules& rules, const std::string& cgroup_dir) {
    return attach(rules, cgroup_dir, ProgramSet::shared());
}

SocketEnforcement SocketEnforcement::attach(const SocketRules& rules, const std::string& cgroup_dir,
                                            std::shared_ptr<const ProgramSet> programs) {
    SocketEnforcement e;
    e.programs_ = std::move(programs);
    e.cgroup_dir_ = cgroup_dir;
    UniqueFd cgroup(::open(cgroup_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!cgroup) throw_errno("open " + cgroup_dir);
    // A cgroup2 directory's inode number is the cgroup's id (kernfs), the
    // key of its storage.
    struct stat st;
    if (::fstat(cgroup.get(), &st) != 0) throw_errno("stat " + cgroup_dir);
    e.cgroup_id_ = st.st_ino;

    const auto& loaded = e.programs_->programs();
    bool claimed = false;
    try {
        // First the programs: the kernel makes the cgroup's policy (all
        // zeroes: every call refused) at the first attach, and from then on
        // the slot's owner has a policy, which is what keeps the slot its
        // own (container_slots.hpp).
        for (size_t i = 0; i < loaded.size(); ++i) {
            if (!program_needed(loaded[i].use, rules)) continue;
            try {
                attach_program(cgroup.get(), loaded[i].fd.get(), loaded[i].attach_type);
            } catch (const Error& error) {
                throw Error("attach " + loaded[i].name + " to " + cgroup_dir + ": " + error.what());
            }
            e.attached_.push_back(i);
        }
        const bool egress_maps = rules.transparent_port || rules.dns_port;
        e.slot_ = claim_slot(*e.programs_, egress_maps ? SlotKind::transparent : SlotKind::basic, e.cgroup_id_);
        claimed = true;
        // The rules go in before the container's process exists.
        auto policy = program_policy_for(rules, e.cgroup_id_, e.slot_.id);
        map_update(e.programs_->maps().policies, &e.cgroup_id_, policy.get(), "the container's policy");
    } catch (const Error&) {
        // All or nothing: a half-attached set would enforce some calls and
        // look like enforcement. The slot goes back before the programs
        // are detached, while its owner still has a policy.
        if (claimed) {
            try {
                return_slot(*e.programs_, e.slot_.id);
            } catch (const Error&) {
            }
        }
        for (size_t i : e.attached_) {
            try {
                detach_program(cgroup.get(), loaded[i].fd.get(), loaded[i].attach_type);
            } catch (const Error&) {
            }
        }
        throw;
    }
    return e;
}

std::vector<uint32_t> SocketEnforcement::program_ids() const {
    std::vector<uint32_t> ids;
    for (size_t i : attached_) ids.push_back(program_id(programs_->programs()[i].fd.get()));
    return ids;
}

}  // namespace tether::hooks::bpf
