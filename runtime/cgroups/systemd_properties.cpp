// linux.resources -> unit properties, following runc's systemd v1/v2 managers
// (libcontainer/cgroups/systemd/{v1,v2,common}.go).
#include "runtime/cgroups/systemd_properties.hpp"

#include <sstream>

#include "runtime/cgroups/convert.hpp"
#include "runtime/core/error.hpp"

namespace tether::cgroups {
namespace {

constexpr uint64_t default_cpu_period = 100000;

// runc's addCpuQuota: systemd keeps the quota as a whole percentage, so a
// fractional one is rounded up to the next 10 ms per second; otherwise the
// cgroup would get less than cfs_quota_us asks for.
void add_cpu_quota(std::vector<UnitProperty>& out, std::optional<int64_t> quota, std::optional<uint64_t> period) {
    const uint64_t period_us = period.value_or(0);
    const int64_t quota_us = quota.value_or(0);
    if (period_us != 0) out.push_back({"CPUQuotaPeriodUSec", period_us});
    if (quota_us == 0 && period_us == 0) return;
    uint64_t per_second = systemd_infinity;
    if (quota_us > 0) {
        per_second = static_cast<uint64_t>(quota_us) * 1000000 / (period_us ? period_us : default_cpu_period);
        if (per_second % 10000 != 0) per_second = (per_second / 10000 + 1) * 10000;
    }
    out.push_back({"CPUQuotaPerSecUSec", per_second});
}

// -1 means unlimited (systemd's infinity); 0 means unset.
std::optional<uint64_t> limit_value(int64_t value) {
    if (value == 0) return std::nullopt;
    if (value < 0) return systemd_infinity;
    return static_cast<uint64_t>(value);
}

std::string major_name(const std::string& proc_devices, char type, int64_t major) {
    // /proc/devices: "Character devices:" then "  1 mem" lines, then "Block devices:".
    std::istringstream lines(proc_devices);
    bool in_section = false;
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("Character devices:")) { in_section = type == 'c'; continue; }
        if (line.starts_with("Block devices:")) { in_section = type == 'b'; continue; }
        std::istringstream fields(line);
        int64_t number = -1;
        std::string name;
        if (in_section && fields >> number >> name && number == major) return name;
    }
    return "";
}

// runc's generateDeviceProperties: a strict policy with one DeviceAllow per
// allow rule; an allow-all rule makes the policy "auto" (no filtering).
// Deny rules are the cgroupfs code's job (it applies the same rule list).
void add_devices(std::vector<UnitProperty>& out, const std::vector<spec::DeviceRule>& rules,
                 const std::string& proc_devices) {
    if (rules.empty()) return;
    DeviceAllowList allow;
    bool allow_all = false;
    for (const auto& rule : rules) {
        const bool everything = rule.type == "a" && !rule.major && !rule.minor;
        if (everything) {
            allow_all = rule.allow;
            allow.clear();
            continue;
        }
        if (!rule.allow) continue;
        std::string access;
        for (char c : rule.access)
            if (c == 'r' || c == 'w' || c == 'm') access += c;
        const std::vector<char> types = rule.type == "a" ? std::vector<char>{'c', 'b'} : std::vector<char>{rule.type[0]};
        for (char type : types) {
            const std::string kind = type == 'b' ? "block" : "char";
            if (!rule.major) {
                allow.emplace_back(kind + "-*", access);
            } else if (!rule.minor) {
                const std::string name = major_name(proc_devices, type, *rule.major);
                if (!name.empty()) allow.emplace_back(kind + "-" + name, access);
            } else {
                allow.emplace_back("/dev/" + kind + "/" + std::to_string(*rule.major) + ":" + std::to_string(*rule.minor),
                                   access);
            }
        }
    }
    out.push_back({"DevicePolicy", std::string(allow_all ? "auto" : "strict")});
    if (!allow_all) out.push_back({"DeviceAllow", allow});
}

}  // namespace

const char* property_signature(const PropertyValue& value) {
    static const char* const signatures[] = {"s", "b", "t", "x", "u", "i", "d", "as", "ay", "a(ss)", "a(st)", "au"};
    return signatures[value.index()];
}

std::vector<uint8_t> cpu_list_to_mask(const std::string& list, const std::string& field) {
    std::vector<uint8_t> mask;
    std::istringstream ranges(list);
    for (std::string range; std::getline(ranges, range, ',');) {
        unsigned long first = 0, last = 0;
        char* end = nullptr;
        first = std::strtoul(range.c_str(), &end, 10);
        bool ok = end != range.c_str();
        last = first;
        if (ok && *end == '-') {
            const char* start = end + 1;
            last = std::strtoul(start, &end, 10);
            ok = end != start;
        }
        if (!ok || *end != '\0' || last < first || last > 8191)
            throw Error(field + ": \"" + list + "\" is not a list of CPU or node ranges (\"0-3,8\")");
        if (mask.size() < last / 8 + 1) mask.resize(last / 8 + 1, 0);
        for (unsigned long bit = first; bit <= last; ++bit) mask[bit / 8] |= static_cast<uint8_t>(1u << (bit % 8));
    }
    return mask;
}

std::vector<UnitProperty> resources_to_properties(const spec::Resources& resources, CgroupLayout layout,
                                                  const std::string& proc_devices) {
    const bool v2 = layout == CgroupLayout::unified;
    std::vector<UnitProperty> out;
    if (resources.memory) {
        const auto& memory = *resources.memory;
        if (auto limit = limit_value(memory.limit.value_or(0))) out.push_back({v2 ? "MemoryMax" : "MemoryLimit", *limit});
        if (v2) {
            if (auto low = limit_value(memory.reservation.value_or(0))) out.push_back({"MemoryLow", *low});
            if (memory.swap) {
                if (auto swap = limit_value(memory_swap_to_v2(*memory.swap, memory.limit.value_or(0))))
                    out.push_back({"MemorySwapMax", *swap});
            }
        }
    }
    if (resources.cpu) {
        const auto& cpu = *resources.cpu;
        if (cpu.shares && *cpu.shares != 0) {
            if (v2)
                out.push_back({"CPUWeight", cpu_shares_to_weight(*cpu.shares)});
            else
                out.push_back({"CPUShares", *cpu.shares});
        }
        add_cpu_quota(out, cpu.quota, cpu.period);
        if (!cpu.cpus.empty()) out.push_back({"AllowedCPUs", cpu_list_to_mask(cpu.cpus, "linux.resources.cpu.cpus")});
        if (!cpu.mems.empty())
            out.push_back({"AllowedMemoryNodes", cpu_list_to_mask(cpu.mems, "linux.resources.cpu.mems")});
    }
    if (resources.pids && resources.pids->limit != 0)
        out.push_back({"TasksMax", resources.pids->limit < 0 ? systemd_infinity
                                                             : static_cast<uint64_t>(resources.pids->limit)});
    if (resources.block_io) {
        const auto& io = *resources.block_io;
        if (io.weight && *io.weight != 0)
            out.push_back({v2 ? "IOWeight" : "BlockIOWeight",
                           v2 ? blkio_weight_to_io_weight(*io.weight) : static_cast<uint64_t>(*io.weight)});
        DeviceWeightList weights;
        for (const auto& device : io.weight_device) {
            if (!device.weight) continue;
            weights.emplace_back("/dev/block/" + std::to_string(device.major) + ":" + std::to_string(device.minor),
                                 v2 ? blkio_weight_to_io_weight(*device.weight) : *device.weight);
        }
        if (!weights.empty()) out.push_back({v2 ? "IODeviceWeight" : "BlockIODeviceWeight", weights});
    }
    add_devices(out, resources.devices, proc_devices);
    return out;
}

}  // namespace tether::cgroups
