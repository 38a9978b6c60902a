#include "runtime/cgroups/convert.hpp"

#include "runtime/core/error.hpp"

namespace tether::cgroups {

uint64_t cpu_shares_to_weight(uint64_t shares) {
    if (shares == 0) return 0;
    // runc's linear map of [2, 262144] onto [1, 10000].
    return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t blkio_weight_to_io_weight(uint64_t weight) {
    if (weight == 0) return 0;
    // runc's linear map of [10, 1000] onto [1, 10000].
    return 1 + (weight - 10) * 9999 / 990;
}

int64_t memory_swap_to_v2(int64_t swap, int64_t limit) {
    // As on v1: an unlimited memory request with no swap request means
    // "unlimited memory and swap".
    if (limit == -1 && swap == 0) return -1;
    if (swap == -1 || swap == 0) return swap;
    if (limit == 0 || limit == -1)
        throw Error("linux.resources.memory.swap: unable to set swap limit without memory limit");
    if (limit < 0)
        throw Error("linux.resources.memory.limit: invalid memory value " + std::to_string(limit));
    if (swap < limit)
        throw Error("linux.resources.memory.swap: memory+swap limit should be >= memory limit");
    return swap - limit;
}

std::optional<std::string> cpu_max_value(std::optional<int64_t> quota, std::optional<uint64_t> period) {
    const int64_t q = quota.value_or(0);
    const uint64_t p = period.value_or(0);
    if (q == 0 && p == 0) return std::nullopt;
    std::string value = q > 0 ? std::to_string(q) : "max";
    if (p != 0) value += " " + std::to_string(p);
    return value;
}

std::string limit_to_v2_string(int64_t value) {
    if (value == 0) return "";
    if (value == -1) return "max";
    return std::to_string(value);
}

std::string device_pair(int64_t major, int64_t minor) {
    return std::to_string(major) + ":" + std::to_string(minor);
}

std::string v1_device_rule_line(const spec::DeviceRule& rule) {
    const std::string type = rule.type.empty() ? "a" : rule.type;
    const std::string major = rule.major ? std::to_string(*rule.major) : "*";
    const std::string minor = rule.minor ? std::to_string(*rule.minor) : "*";
    return type + " " + major + ":" + minor + " " + (rule.access.empty() ? "rwm" : rule.access);
}

}  // namespace tether::cgroups
