// Container resource statistics as `events --stats` prints them, in runc's
// format: {"type":"stats","id":"<id>","data":{"cpu":{...},"memory":{...},
// "pids":{...},"blkio":{},"hugetlb":{...},...}}. Filled from the cgroup files
// by runtime/cgroups; turned into JSON here (the only place nlohmann is used).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tether::spec {

struct CpuUsageStats {
    uint64_t total = 0;                 // ns
    std::vector<uint64_t> percpu;       // ns, v1 only
    std::vector<uint64_t> percpu_kernel;
    std::vector<uint64_t> percpu_user;
    uint64_t kernel = 0;                // ns
    uint64_t user = 0;                  // ns
};

struct CpuThrottlingStats {
    uint64_t periods = 0;
    uint64_t throttled_periods = 0;
    uint64_t throttled_time = 0;  // ns
};

struct CpuStats {
    CpuUsageStats usage;
    CpuThrottlingStats throttling;
};

struct MemoryEntryStats {
    uint64_t limit = 0;
    uint64_t usage = 0;
    uint64_t max = 0;
    uint64_t failcnt = 0;
};

struct MemoryStats {
    uint64_t cache = 0;
    MemoryEntryStats usage;
    MemoryEntryStats swap;
    MemoryEntryStats kernel;
    MemoryEntryStats kernel_tcp;
    std::map<std::string, uint64_t> raw;  // memory.stat
};

struct PidsStats {
    uint64_t current = 0;
    uint64_t limit = 0;  // 0 = unlimited
};

struct HugetlbStats {
    uint64_t usage = 0;
    uint64_t max = 0;
    uint64_t failcnt = 0;
};

struct CgroupStats {
    CpuStats cpu;
    MemoryStats memory;
    PidsStats pids;
    std::map<std::string, HugetlbStats> hugetlb;  // page size ("2MB") -> stats
};

// One `events --stats` line (no trailing newline), field names and omitempty
// rules as runc's types.Event / types.Stats.
std::string stats_event_to_json(const std::string& container_id, const CgroupStats& stats);

// The `events` line for an OOM kill: {"type":"oom","id":"<id>"}.
std::string oom_event_to_json(const std::string& container_id);

}  // namespace tether::spec
