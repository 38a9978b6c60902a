// `events --stats` numbers from cgroup v1 files, as runc's fs GetStats.
#include <dirent.h>
#include <unistd.h>

#include <sstream>

#include "runtime/cgroups/cgroup_fs.hpp"
#include "runtime/cgroups/hugetlb_sizes.hpp"
#include "runtime/cgroups/v1_manager.hpp"

namespace tether::cgroups {

namespace {

uint64_t read_or_zero(const std::string& dir, const std::string& name) {
    if (!path_exists(join_path(dir, name))) return 0;
    return read_uint(dir, name);
}

std::vector<uint64_t> read_number_list(const std::string& dir, const std::string& name) {
    std::vector<uint64_t> numbers;
    auto content = read_file_if_exists(dir, name);
    if (!content) return numbers;
    std::istringstream words(*content);
    for (uint64_t number; words >> number;) numbers.push_back(number);
    return numbers;
}

spec::MemoryEntryStats memory_entry(const std::string& dir, const std::string& prefix) {
    spec::MemoryEntryStats entry;
    entry.usage = read_or_zero(dir, prefix + ".usage_in_bytes");
    entry.max = read_or_zero(dir, prefix + ".max_usage_in_bytes");
    entry.limit = read_or_zero(dir, prefix + ".limit_in_bytes");
    entry.failcnt = read_or_zero(dir, prefix + ".failcnt");
    return entry;
}

}  // namespace

spec::CgroupStats V1Manager::stats() {
    spec::CgroupStats stats;
    if (const std::string dir = dir_of("cpuacct"); !dir.empty()) {
        stats.cpu.usage.total = read_or_zero(dir, "cpuacct.usage");
        stats.cpu.usage.percpu = read_number_list(dir, "cpuacct.usage_percpu");
        stats.cpu.usage.percpu_kernel = read_number_list(dir, "cpuacct.usage_percpu_sys");
        stats.cpu.usage.percpu_user = read_number_list(dir, "cpuacct.usage_percpu_user");
        if (path_exists(join_path(dir, "cpuacct.stat"))) {
            // cpuacct.stat counts clock ticks; runc reports nanoseconds.
            const auto ticks = read_key_values(dir, "cpuacct.stat");
            const uint64_t ns_per_tick = 1000000000ull / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
            if (auto it = ticks.find("user"); it != ticks.end()) stats.cpu.usage.user = it->second * ns_per_tick;
            if (auto it = ticks.find("system"); it != ticks.end()) stats.cpu.usage.kernel = it->second * ns_per_tick;
        }
    }
    if (const std::string dir = dir_of("cpu"); !dir.empty() && path_exists(join_path(dir, "cpu.stat"))) {
        const auto values = read_key_values(dir, "cpu.stat");
        auto get = [&](const char* key) {
            auto it = values.find(key);
            return it == values.end() ? 0 : it->second;
        };
        stats.cpu.throttling.periods = get("nr_periods");
        stats.cpu.throttling.throttled_periods = get("nr_throttled");
        stats.cpu.throttling.throttled_time = get("throttled_time");
    }
    if (const std::string dir = dir_of("memory"); !dir.empty()) {
        stats.memory.usage = memory_entry(dir, "memory");
        stats.memory.swap = memory_entry(dir, "memory.memsw");
        stats.memory.kernel = memory_entry(dir, "memory.kmem");
        stats.memory.kernel_tcp = memory_entry(dir, "memory.kmem.tcp");
        if (path_exists(join_path(dir, "memory.stat"))) {
            stats.memory.raw = read_key_values(dir, "memory.stat");
            auto cache = stats.memory.raw.find("total_cache");
            if (cache == stats.memory.raw.end()) cache = stats.memory.raw.find("cache");
            if (cache != stats.memory.raw.end()) stats.memory.cache = cache->second;
        }
    }
    if (const std::string dir = dir_of("pids"); !dir.empty()) {
        stats.pids.current = read_or_zero(dir, "pids.current");
        const uint64_t limit = read_or_zero(dir, "pids.max");
        stats.pids.limit = limit == UINT64_MAX ? 0 : limit;
    }
    if (const std::string dir = dir_of("hugetlb"); !dir.empty()) {
        for (const auto& size : hugetlb_page_sizes_in(dir, ".limit_in_bytes")) {
            spec::HugetlbStats entry;
            entry.usage = read_or_zero(dir, "hugetlb." + size + ".usage_in_bytes");
            entry.max = read_or_zero(dir, "hugetlb." + size + ".max_usage_in_bytes");
            entry.failcnt = read_or_zero(dir, "hugetlb." + size + ".failcnt");
            stats.hugetlb[size] = entry;
        }
    }
    return stats;
}

}  // namespace tether::cgroups
