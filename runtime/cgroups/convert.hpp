// Value conversions between the OCI (cgroup v1 flavoured) resources and the
// cgroup v2 files, exactly as runc performs them, so a container gets the same
// limits under tether as under runc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "spec/config.hpp"

namespace tether::cgroups {

// cpu.shares [2, 262144] -> cpu.weight [1, 10000]; 0 stays 0 (unset).
uint64_t cpu_shares_to_weight(uint64_t shares);

// blkio.weight [10, 1000] -> io.weight [1, 10000]; 0 stays 0 (unset).
uint64_t blkio_weight_to_io_weight(uint64_t weight);

// OCI memory.swap is memory+swap; memory.swap.max is swap alone.
// Returns -1 for "max", 0 for "leave unset". Throws tether::Error for the
// combinations runc refuses (swap without a memory limit, swap < limit).
int64_t memory_swap_to_v2(int64_t swap, int64_t limit);

// cpu.max: "<quota|max> [period]"; nullopt when neither is set.
std::optional<std::string> cpu_max_value(std::optional<int64_t> quota, std::optional<uint64_t> period);

// runc's numToStr: 0 -> "" (unset), -1 -> "max", else the number.
std::string limit_to_v2_string(int64_t value);

// "8:0": a block device as the v1 blkio and the v2 io files name it.
std::string device_pair(int64_t major, int64_t minor);

// "c 1:3 rwm" for devices.allow / devices.deny ("*" for wildcards).
std::string v1_device_rule_line(const spec::DeviceRule& rule);

}  // namespace tether::cgroups
