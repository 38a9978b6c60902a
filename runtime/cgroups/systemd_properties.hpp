// Unit properties for systemd's D-Bus API (StartTransientUnit,
// SetUnitProperties) as plain data: the translation of linux.resources and
// of org.systemd.property.* annotations is pure and unit-tested; only
// systemd_bus.cpp turns these values into D-Bus messages.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "runtime/cgroups/layout.hpp"
#include "spec/config.hpp"

namespace tether::cgroups {

// The D-Bus types systemd's properties use: s b t x u i d as ay a(ss) a(st) au.
using DeviceAllowList = std::vector<std::pair<std::string, std::string>>;  // a(ss): path, access
using DeviceWeightList = std::vector<std::pair<std::string, uint64_t>>;    // a(st): path, weight
using PropertyValue = std::variant<std::string, bool, uint64_t, int64_t, uint32_t, int32_t, double,
                                   std::vector<std::string>, std::vector<uint8_t>, DeviceAllowList,
                                   DeviceWeightList, std::vector<uint32_t>>;

struct UnitProperty {
    std::string name;
    PropertyValue value;
    bool operator==(const UnitProperty&) const = default;
};

// The D-Bus signature of a value ("t", "a(ss)", ...).
const char* property_signature(const PropertyValue& value);

// systemd's "infinity" for limits, quotas and TasksMax.
constexpr uint64_t systemd_infinity = UINT64_MAX;

// linux.resources as unit properties, as runc translates them: v1 names
// (MemoryLimit, CPUShares, BlockIOWeight) on legacy and hybrid hosts, v2 names
// (MemoryMax, MemoryLow, MemorySwapMax, CPUWeight, IOWeight) on unified ones;
// CPUQuotaPerSecUSec rounded up to whole percents as systemd stores it.
// Settings systemd has no property for are left to the cgroupfs code.
// proc_devices: the text of /proc/devices, to name a major for a "char-NAME"
// DeviceAllow entry (a rule with a wildcard minor). Throws tether::Error
// naming the field for values runc refuses (a swap limit below the memory limit).
std::vector<UnitProperty> resources_to_properties(const spec::Resources& resources, CgroupLayout layout,
                                                  const std::string& proc_devices);

// "0-3,8" -> the bitmask systemd's AllowedCPUs wants (byte 0 = CPUs 0-7).
// Throws tether::Error naming the field for a malformed list.
std::vector<uint8_t> cpu_list_to_mask(const std::string& list, const std::string& field);

// org.systemd.property.<Name> annotations (runc's convention): the value is
// GVariant text ("uint64 5000000", "true", "'text'", "['a', 'b']"); a name
// ending in a lowercase letter plus "Sec" is converted to "...USec"
// (TimeoutStopSec=uint64 5 -> TimeoutStopUSec 5000000). Throws tether::Error
// naming the annotation for a bad name, an unknown type or a bad value.
std::vector<UnitProperty> parse_property_annotations(const std::map<std::string, std::string>& annotations);

}  // namespace tether::cgroups
