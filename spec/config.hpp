// The OCI runtime-spec config.json (1.0.2 .. 1.2) as typed C++ values.
//
// Parsing (config_parse.cpp) validates every field and reports the JSON path
// of the first error; after that the runtime only ever sees these structs,
// never nlohmann::json. No syscalls in spec/: everything here is pure.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tether::spec {

struct Root {
    std::string path;  // as written; may be relative to the bundle
    bool readonly = false;
};

struct IdMapping {
    uint32_t container_id = 0;
    uint32_t host_id = 0;
    uint32_t size = 0;
};

struct Mount {
    std::string destination;  // absolute path inside the container
    std::string type;         // "" means bind when options say so
    std::string source;
    std::vector<std::string> options;
    std::vector<IdMapping> uid_mappings;  // idmapped mounts (1.1)
    std::vector<IdMapping> gid_mappings;
};

struct User {
    uint32_t uid = 0;
    uint32_t gid = 0;
    std::optional<uint32_t> umask;
    std::vector<uint32_t> additional_gids;
    std::string username;  // Windows only; kept for round-trips
};

struct Capabilities {
    std::vector<std::string> bounding;
    std::vector<std::string> effective;
    std::vector<std::string> inheritable;
    std::vector<std::string> permitted;
    std::vector<std::string> ambient;
};

struct Rlimit {
    std::string type;  // "RLIMIT_NOFILE"
    uint64_t soft = 0;
    uint64_t hard = 0;
};

struct ConsoleSize {
    uint32_t height = 0;
    uint32_t width = 0;
};

// process.scheduler (runtime-spec 1.2): sched_setattr(2) parameters.
struct Scheduler {
    std::string policy;  // SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_ISO, SCHED_IDLE, SCHED_DEADLINE
    std::optional<int32_t> nice;      // -20..19
    std::optional<int32_t> priority;
    std::vector<std::string> flags;   // SCHED_FLAG_*
    std::optional<uint64_t> runtime;  // SCHED_DEADLINE, nanoseconds
    std::optional<uint64_t> deadline;
    std::optional<uint64_t> period;
};

// process.execCPUAffinity (runtime-spec 1.2): cpu lists like "0-3,7".
struct ExecCpuAffinity {
    std::string initial;  // while the runtime sets the process up
    std::string final;    // for the container process after exec
};

struct Process {
    bool terminal = false;
    std::optional<ConsoleSize> console_size;
    User user;
    std::vector<std::string> args;
    std::string command_line;  // Windows only
    std::vector<std::string> env;
    std::string cwd = "/";
    std::optional<Capabilities> capabilities;
    std::vector<Rlimit> rlimits;
    bool no_new_privileges = false;
    std::string apparmor_profile;
    std::optional<int> oom_score_adj;
    std::string selinux_label;
    // IO priority and scheduler (1.1/1.2); parsed so they are not silently lost.
    std::optional<std::string> io_priority_class;
    std::optional<int> io_priority;
    std::optional<Scheduler> scheduler;            // 1.2
    std::optional<ExecCpuAffinity> exec_cpu_affinity;  // 1.2
};

struct Hook {
    std::string path;
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::optional<int> timeout;  // seconds, > 0
};

struct Hooks {
    std::vector<Hook> prestart;
    std::vector<Hook> create_runtime;
    std::vector<Hook> create_container;
    std::vector<Hook> start_container;
    std::vector<Hook> poststart;
    std::vector<Hook> poststop;
    bool empty() const {
        return prestart.empty() && create_runtime.empty() && create_container.empty() &&
               start_container.empty() && poststart.empty() && poststop.empty();
    }
};

enum class NamespaceType { pid, network, mount, ipc, uts, user, cgroup, time };

struct Namespace {
    NamespaceType type;
    std::string path;  // empty: create a new one
};

struct Device {
    std::string path;
    char type = 'c';  // 'c', 'b', 'u' (== 'c'), 'p'
    int64_t major = 0;
    int64_t minor = 0;
    std::optional<uint32_t> file_mode;
    std::optional<uint32_t> uid;
    std::optional<uint32_t> gid;
};

struct DeviceRule {
    bool allow = false;
    std::string type = "a";  // a, c, b
    std::optional<int64_t> major;  // nullopt == wildcard
    std::optional<int64_t> minor;
    std::string access = "rwm";
};

struct MemoryResources {
    std::optional<int64_t> limit;
    std::optional<int64_t> reservation;
    std::optional<int64_t> swap;
    std::optional<int64_t> kernel;
    std::optional<int64_t> kernel_tcp;
    std::optional<uint64_t> swappiness;
    std::optional<bool> disable_oom_killer;
    std::optional<bool> use_hierarchy;
    std::optional<bool> check_before_update;
};

struct CpuResources {
    std::optional<uint64_t> shares;
    std::optional<int64_t> quota;
    std::optional<uint64_t> burst;
    std::optional<uint64_t> period;
    std::optional<int64_t> realtime_runtime;
    std::optional<uint64_t> realtime_period;
    std::string cpus;
    std::string mems;
    std::optional<int64_t> idle;
};

struct PidsResources {
    int64_t limit = 0;  // <= 0 means unlimited
};

struct WeightDevice {
    int64_t major = 0;
    int64_t minor = 0;
    std::optional<uint16_t> weight;
    std::optional<uint16_t> leaf_weight;
};

struct ThrottleDevice {
    int64_t major = 0;
    int64_t minor = 0;
    uint64_t rate = 0;
};

struct BlockIoResources {
    std::optional<uint16_t> weight;
    std::optional<uint16_t> leaf_weight;
    std::vector<WeightDevice> weight_device;
    std::vector<ThrottleDevice> throttle_read_bps_device;
    std::vector<ThrottleDevice> throttle_write_bps_device;
    std::vector<ThrottleDevice> throttle_read_iops_device;
    std::vector<ThrottleDevice> throttle_write_iops_device;
};

struct HugepageLimit {
    std::string page_size;  // "2MB"
    uint64_t limit = 0;
};

struct NetworkPriority {
    std::string name;
    uint32_t priority = 0;
};

struct NetworkResources {
    std::optional<uint32_t> class_id;
    std::vector<NetworkPriority> priorities;
};

// resources.rdma["mlx5_1"]: limits of the rdma cgroup controller.
struct RdmaLimit {
    std::optional<uint32_t> hca_handles;
    std::optional<uint32_t> hca_objects;
};

struct Resources {
    std::vector<DeviceRule> devices;
    std::optional<MemoryResources> memory;
    std::optional<CpuResources> cpu;
    std::optional<PidsResources> pids;
    std::optional<BlockIoResources> block_io;
    std::vector<HugepageLimit> hugepage_limits;
    std::optional<NetworkResources> network;
    std::map<std::string, std::string> unified;
    std::map<std::string, RdmaLimit> rdma;  // keyed by device name
};

struct SeccompArg {
    uint32_t index = 0;
    uint64_t value = 0;
    uint64_t value_two = 0;
    std::string op;  // SCMP_CMP_EQ, ...
};

struct SeccompSyscall {
    std::vector<std::string> names;
    std::string action;  // SCMP_ACT_*
    std::optional<uint32_t> errno_ret;
    std::vector<SeccompArg> args;
};

struct Seccomp {
    std::string default_action;
    std::optional<uint32_t> default_errno_ret;
    std::vector<std::string> architectures;
    std::vector<std::string> flags;
    std::string listener_path;
    std::string listener_metadata;
    std::vector<SeccompSyscall> syscalls;
};

struct Personality {
    std::string domain;  // LINUX or LINUX32
    std::vector<std::string> flags;
};

struct IntelRdt {
    std::string clos_id;
    std::string l3_cache_schema;
    std::string mem_bw_schema;
};

// linux.timeOffsets["monotonic" | "boottime"] (1.1): time namespace clock offsets.
struct TimeOffset {
    int64_t secs = 0;
    uint32_t nanosecs = 0;  // < 1e9
};

// linux.netDevices["eth1"] (1.2): a host interface moved into the container.
struct NetDevice {
    std::string name;  // name inside the container; "" keeps the host name
};

struct Linux {
    std::vector<Namespace> namespaces;
    std::vector<IdMapping> uid_mappings;
    std::vector<IdMapping> gid_mappings;
    std::vector<Device> devices;
    std::optional<Resources> resources;
    std::string cgroups_path;
    std::map<std::string, std::string> sysctl;
    std::optional<Seccomp> seccomp;
    std::vector<std::string> masked_paths;
    std::vector<std::string> readonly_paths;
    std::string rootfs_propagation;
    std::string mount_label;
    std::optional<Personality> personality;
    std::optional<IntelRdt> intel_rdt;
    std::map<std::string, TimeOffset> time_offsets;  // needs a time namespace
    std::map<std::string, NetDevice> net_devices;    // keyed by host interface name

    const Namespace* find_namespace(NamespaceType type) const {
        for (const auto& ns : namespaces)
            if (ns.type == type) return &ns;
        return nullptr;
    }
};

struct Config {
    std::string oci_version;
    std::optional<Root> root;
    std::vector<Mount> mounts;
    std::optional<Process> process;
    std::string hostname;
    std::string domainname;
    Hooks hooks;
    std::map<std::string, std::string> annotations;
    std::optional<Linux> linux_;  // trailing _: `linux` is a GNU macro
};

// Parses and validates a config.json document. Throws spec::ParseError whose
// message starts with the JSON path of the offending field, e.g.
// "process.args: expected a non-empty array of strings". Besides each
// field's own rules it refuses configs that would change the host instead of
// the container (config_consistency.cpp): sysctls outside the container's
// namespaces, hostname without a uts namespace, id mappings without a user
// namespace, timeOffsets without a time namespace. Unknown fields are ignored.
// Name tables and lookups (rlimits, seccomp, namespaces): spec/vocabulary.hpp;
// capabilities: spec/capability_names.hpp.
Config parse_config(std::string_view json_text);

// Parses an exec process.json (the "process" object alone).
Process parse_process(std::string_view json_text);

// Parses a LinuxResources document (update --resources).
Resources parse_resources(std::string_view json_text);

const char* namespace_type_name(NamespaceType type);

}  // namespace tether::spec
