#include "hooks/bpf/socket_enforcement.hpp"

#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <sstream>

#include "hooks/bpf/socket_programs.hpp"
#include "runtime/core/bpf_syscall.hpp"
#include "runtime/core/error.hpp"
#include "runtime/core/user_namespace.hpp"

namespace tether::hooks::bpf {

using tether::bpf::attach_program;
using tether::bpf::create_array_map;
using tether::bpf::create_lru_hash_map;
using tether::bpf::create_ringbuf_map;
using tether::bpf::detach_program;
using tether::bpf::load_program;

namespace {

// bpf_get_current_comm and the ring buffer are GPL-only helpers.
constexpr char kLicense[] = "GPL";

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
    SocketEnforcement e;
    e.cgroup_dir_ = cgroup_dir;
    UniqueFd cgroup(::open(cgroup_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!cgroup) throw_errno("open " + cgroup_dir);
    e.events_ = create_ringbuf_map(kEventRingBytes, "tether_events");
    UniqueFd bound_ports, original_by_cookie;
    ProgramMaps maps;
    maps.events = e.events_.get();
    if (rules.transparent_port) {
        original_by_cookie = create_lru_hash_map(sizeof(uint64_t), sizeof(OriginalDestination),
                                                 kOriginalDestinationEntries, "tether_orig_ck");
        e.original_by_client_ = create_lru_hash_map(sizeof(ClientKey), sizeof(OriginalDestination),
                                                    kOriginalDestinationEntries, "tether_orig_cl");
        maps.original_by_cookie = original_by_cookie.get();
        maps.original_by_client = e.original_by_client_.get();
    }
    UniqueFd dns_by_cookie;
    if (rules.dns_port) {
        dns_by_cookie = create_lru_hash_map(sizeof(uint64_t), sizeof(OriginalDestination), kDnsQueryEntries,
                                            "tether_dns_ck");
        maps.dns_by_cookie = dns_by_cookie.get();
    }
    if (rules.track_bound_ports) {
        bound_ports = create_array_map(kBoundPortsBitmapBytes, 1, "tether_bound");
        maps.bound_ports = bound_ports.get();
    }

    struct Loaded {
        UniqueFd fd;
        bpf_attach_type type;
    };
    // The verifier is most of the daemon's start-up (3 ms for the set on
    // the bench's machine, docs/benchmarks.md): the second half of the
    // programs loads on a thread of its own. A failure on either side
    // waits for the other (the future joins) and is thrown from here.
    std::vector<SocketProgram> programs = build_socket_programs(rules, maps);
    std::vector<Loaded> loaded(programs.size());
    auto load = [&](size_t first, size_t end) {
        for (size_t i = first; i < end; ++i)
            loaded[i] = {load_program(programs[i].type, programs[i].attach_type, programs[i].code,
                                      "tether_" + programs[i].name, kLicense),
                         programs[i].attach_type};
    };
    const size_t half = programs.size() / 2;
    std::future<void> second_half = std::async(std::launch::async, load, half, programs.size());
    load(0, half);
    second_half.get();
    size_t attached = 0;
    try {
        for (; attached < loaded.size(); ++attached)
            attach_program(cgroup.get(), loaded[attached].fd.get(), loaded[attached].type);
    } catch (const Error& error) {
        // All or nothing: a half-attached set would enforce some calls and
        // look like enforcement.
        for (size_t i = 0; i < attached; ++i) {
            try {
                detach_program(cgroup.get(), loaded[i].fd.get(), loaded[i].type);
            } catch (const Error&) {
            }
        }
        throw Error("attach to " + cgroup_dir + ": " + error.what());
    }
    for (const auto& program : loaded) {
        bpf_prog_info info{};
        bpf_attr attr{};
        attr.info.bpf_fd = static_cast<uint32_t>(program.fd.get());
        attr.info.info_len = sizeof info;
        attr.info.info = reinterpret_cast<uint64_t>(&info);
        if (::syscall(SYS_bpf, BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof attr) == 0) e.program_ids_.push_back(info.id);
    }
    return e;
}

}  // namespace tether::hooks::bpf
