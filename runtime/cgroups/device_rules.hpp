// The device access list a container's cgroup gets.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "spec/config.hpp"

namespace tether::cgroups {

// One rule of linux.resources.devices; no major or minor means any.
spec::DeviceRule device_rule(bool allow, const char* type, std::optional<int64_t> major,
                             std::optional<int64_t> minor, const char* access);

// runc's AllowedDevices: what every container may use even when the config
// only says deny-all (podman sends just {"allow":false,"access":"rwm"}):
// mknod of any char/block device, /dev/{null,random,full,tty,zero,urandom,
// console}, /dev/pts/*, /dev/ptmx and /dev/net/tun.
std::vector<spec::DeviceRule> default_device_rules();

// The list to hand to CgroupManager::apply_resources at create time, in
// runc's order: the config's linux.resources.devices, then the defaults, then
// an "rwm" allow rule for every device the config creates (linux.devices), so
// later rules win over the config's deny-all.
std::vector<spec::DeviceRule> effective_device_rules(const std::vector<spec::DeviceRule>& config_rules,
                                                     const std::vector<spec::Device>& config_devices);

}  // namespace tether::cgroups
