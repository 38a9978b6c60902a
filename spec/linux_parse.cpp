// config.json "linux": namespaces, id mappings, devices, sysctl, masked and
// read-only paths, propagation, personality. resources and seccomp have
// their own files.
#include <cstdio>
#include <set>
#include <string>

#include "spec/parse_parts.hpp"
#include "spec/vocabulary.hpp"

namespace tether::spec {

namespace {

std::vector<Namespace> read_namespaces(const JsonNode& linux_node) {
    std::vector<Namespace> namespaces;
    std::set<NamespaceType> seen;
    linux_node.for_each_item("namespaces", [&](const JsonNode& item, size_t) {
        item.require_object();
        auto type_node = item.member("type");
        std::string name = type_node.as_string();
        auto type = namespace_type_from_name(name);
        if (!type) type_node.fail("unknown namespace type " + quote_for_message(name));
        // runtime-spec: "If a namespace type is specified more than once, the
        // runtime MUST generate an error" (which path would win is undefined).
        if (!seen.insert(*type).second) item.fail("duplicate namespace type " + quote_for_message(name));
        Namespace ns{*type, ""};
        if (auto path = item.optional_member("path")) ns.path = path->as_absolute_path();
        namespaces.push_back(std::move(ns));
    });
    return namespaces;
}

std::string octal(uint32_t value) {
    char text[16];
    std::snprintf(text, sizeof text, "%#o", value);
    return text;
}

// The S_IFMT bits of a device type (c and u are character devices).
uint32_t device_type_bits(char type) {
    switch (type) {
        case 'b': return 0060000;
        case 'p': return 0010000;
        default: return 0020000;
    }
}

Device read_device(const JsonNode& node) {
    node.require_object();
    Device device;
    device.path = node.member("path").as_absolute_path();
    auto type_node = node.member("type");
    std::string type = type_node.as_string();
    if (type != "c" && type != "b" && type != "u" && type != "p")
        type_node.fail("expected \"c\", \"b\", \"u\" or \"p\", got " + quote_for_message(type));
    device.type = type[0];
    if (device.type == 'p') {
        // A FIFO has no device number; accept but ignore one if given.
        device.major = node.maybe_integer<int64_t>("major").value_or(0);
        device.minor = node.maybe_integer<int64_t>("minor").value_or(0);
    } else {
        // makedev() takes 32-bit major and minor numbers.
        device.major = node.required_integer<int64_t>("major", 0, UINT32_MAX);
        device.minor = node.required_integer<int64_t>("minor", 0, UINT32_MAX);
    }
    if (auto mode_node = node.optional_member("fileMode")) {
        // podman passes the host node's st_mode, file type bits included
        // (--device /dev/null: 8630, 020666), and runc and crun accept it:
        // the type bits may be given, and then must be the device's type.
        // Only the permission bits reach mknod.
        const auto mode = mode_node->as_integer<uint32_t>(0, 0177777);
        const uint32_t type_bits = mode & 0170000;
        if (type_bits != 0 && type_bits != device_type_bits(device.type))
            mode_node->fail("file type bits " + octal(type_bits) + " do not match type \"" + device.type + "\"");
        device.file_mode = mode & 07777;
    }
    device.uid = node.maybe_integer<uint32_t>("uid");
    device.gid = node.maybe_integer<uint32_t>("gid");
    return device;
}

std::vector<std::string> read_absolute_paths(const JsonNode& linux_node, std::string_view key) {
    std::vector<std::string> paths;
    linux_node.for_each_item(key, [&](const JsonNode& item, size_t) { paths.push_back(item.as_absolute_path()); });
    return paths;
}

Personality read_personality(const JsonNode& node) {
    node.require_object();
    Personality personality;
    personality.domain = read_one_of(node.member("domain"), {"LINUX", "LINUX32"});
    personality.flags = node.optional_string_array("flags");
    return personality;
}

IntelRdt read_intel_rdt(const JsonNode& node) {
    node.require_object();
    IntelRdt rdt;
    rdt.clos_id = node.optional_string("closID");
    rdt.l3_cache_schema = node.optional_string("l3CacheSchema");
    rdt.mem_bw_schema = node.optional_string("memBwSchema");
    return rdt;
}

std::map<std::string, TimeOffset> read_time_offsets(const JsonNode& node) {
    std::map<std::string, TimeOffset> offsets;
    for (const auto& clock : node.object_keys()) {
        if (!node.has(clock)) continue;
        auto offset = node.member(clock);
        // Only these two clocks can be offset in a time namespace (time_namespaces(7)).
        if (clock != "monotonic" && clock != "boottime") offset.fail("expected the clock \"monotonic\" or \"boottime\"");
        offset.require_object();
        offsets[clock] = TimeOffset{offset.maybe_integer<int64_t>("secs").value_or(0),
                                    offset.maybe_integer<uint32_t>("nanosecs", 0, 999999999).value_or(0)};
    }
    return offsets;
}

// What the kernel accepts as an interface name (dev_valid_name()).
bool valid_interface_name(const std::string& name) {
    if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
    for (char c : name)
        if (c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f')
            return false;
    return true;
}

std::map<std::string, NetDevice> read_net_devices(const JsonNode& node) {
    std::map<std::string, NetDevice> devices;
    for (const auto& host_name : node.object_keys()) {
        if (!node.has(host_name)) continue;
        auto entry = node.member(host_name);
        if (!valid_interface_name(host_name)) entry.fail("not a valid network interface name");
        entry.require_object();
        NetDevice device;
        if (auto name = entry.optional_member("name")) {
            device.name = name->as_string();
            if (!device.name.empty() && !valid_interface_name(device.name))
                name->fail("not a valid network interface name: " + quote_for_message(device.name));
        }
        devices[host_name] = device;
    }
    return devices;
}

}  // namespace

Linux read_linux(const JsonNode& node) {
    node.require_object();
    Linux linux_config;
    linux_config.namespaces = read_namespaces(node);
    linux_config.uid_mappings = read_id_mappings(node, "uidMappings");
    linux_config.gid_mappings = read_id_mappings(node, "gidMappings");
    node.for_each_item("devices", [&](const JsonNode& item, size_t) {
        linux_config.devices.push_back(read_device(item));
    });
    if (auto resources = node.optional_member("resources")) linux_config.resources = read_resources(*resources);
    linux_config.cgroups_path = node.optional_string("cgroupsPath");
    linux_config.sysctl = node.optional_string_map("sysctl");
    if (auto seccomp = node.optional_member("seccomp")) linux_config.seccomp = read_seccomp(*seccomp);
    linux_config.masked_paths = read_absolute_paths(node, "maskedPaths");
    linux_config.readonly_paths = read_absolute_paths(node, "readonlyPaths");
    if (auto propagation = node.optional_member("rootfsPropagation"))
        linux_config.rootfs_propagation = read_one_of(*propagation, rootfs_propagation_names());
    linux_config.mount_label = node.optional_string("mountLabel");
    if (auto personality = node.optional_member("personality"))
        linux_config.personality = read_personality(*personality);
    if (auto rdt = node.optional_member("intelRdt")) linux_config.intel_rdt = read_intel_rdt(*rdt);
    if (auto offsets = node.optional_member("timeOffsets")) linux_config.time_offsets = read_time_offsets(*offsets);
    if (auto devices = node.optional_member("netDevices")) linux_config.net_devices = read_net_devices(*devices);
    return linux_config;
}

}  // namespace tether::spec
