#include "runtime/cgroups/device_rules.hpp"

namespace tether::cgroups {

spec::DeviceRule device_rule(bool allow, const char* type, std::optional<int64_t> major,
                             std::optional<int64_t> minor, const char* access) {
    spec::DeviceRule rule;
    rule.allow = allow;
    rule.type = type;
    rule.major = major;
    rule.minor = minor;
    rule.access = access;
    return rule;
}

namespace {

spec::DeviceRule allow(const char* type, std::optional<int64_t> major, std::optional<int64_t> minor,
                       const char* access) {
    return device_rule(true, type, major, minor, access);
}

}  // namespace

std::vector<spec::DeviceRule> default_device_rules() {
    const auto any = std::nullopt;
    return {
        allow("c", any, any, "m"),    // mknod of any char device
        allow("b", any, any, "m"),    // mknod of any block device
        allow("c", 1, 3, "rwm"),      // /dev/null
        allow("c", 1, 8, "rwm"),      // /dev/random
        allow("c", 1, 7, "rwm"),      // /dev/full
        allow("c", 5, 0, "rwm"),      // /dev/tty
        allow("c", 1, 5, "rwm"),      // /dev/zero
        allow("c", 1, 9, "rwm"),      // /dev/urandom
        allow("c", 5, 1, "rwm"),      // /dev/console
        allow("c", 136, any, "rwm"),  // /dev/pts/*
        allow("c", 5, 2, "rwm"),      // /dev/ptmx
        allow("c", 10, 200, "rwm"),   // /dev/net/tun
    };
}

std::vector<spec::DeviceRule> effective_device_rules(const std::vector<spec::DeviceRule>& config_rules,
                                                     const std::vector<spec::Device>& config_devices) {
    std::vector<spec::DeviceRule> rules = config_rules;
    for (auto& rule : default_device_rules()) rules.push_back(std::move(rule));
    for (const auto& device : config_devices) {
        if (device.type == 'p') continue;  // FIFOs are not subject to the device cgroup
        const char* type = device.type == 'b' ? "b" : "c";  // 'u' is a char device
        rules.push_back(allow(type, device.major, device.minor, "rwm"));
    }
    return rules;
}

}  // namespace tether::cgroups
