// linux.resources (config.json) and the LinuxResources document that
// `update --resources` reads: devices cgroup rules, memory, cpu, pids, blkio,
// hugepages, network, unified.
#include <string>

#include "spec/parse_parts.hpp"

namespace tether::spec {

namespace {

DeviceRule read_device_rule(const JsonNode& node) {
    node.require_object();
    DeviceRule rule;
    rule.allow = node.member("allow").as_bool();
    if (auto type = node.optional_member("type")) rule.type = read_one_of(*type, {"a", "b", "c"});
    // -1 is how some clients spell the wildcard; keep both spellings as nullopt.
    rule.major = node.maybe_integer<int64_t>("major", -1, UINT32_MAX);
    if (rule.major == -1) rule.major.reset();
    rule.minor = node.maybe_integer<int64_t>("minor", -1, UINT32_MAX);
    if (rule.minor == -1) rule.minor.reset();
    if (auto access = node.optional_member("access")) {
        rule.access = access->as_string();
        bool valid = !rule.access.empty() && rule.access.size() <= 3;
        for (size_t i = 0; valid && i < rule.access.size(); ++i) {
            char c = rule.access[i];
            valid = (c == 'r' || c == 'w' || c == 'm') && rule.access.find(c) == i;
        }
        if (!valid) access->fail("expected a combination of \"r\", \"w\" and \"m\", got " + quote_for_message(rule.access));
    }
    return rule;
}

MemoryResources read_memory(const JsonNode& node) {
    node.require_object();
    MemoryResources m;
    m.limit = node.maybe_integer<int64_t>("limit");
    m.reservation = node.maybe_integer<int64_t>("reservation");
    m.swap = node.maybe_integer<int64_t>("swap");
    m.kernel = node.maybe_integer<int64_t>("kernel");
    m.kernel_tcp = node.maybe_integer<int64_t>("kernelTCP");
    m.swappiness = node.maybe_integer<uint64_t>("swappiness", 0, 100);  // the kernel's range
    m.disable_oom_killer = node.maybe_bool("disableOOMKiller");
    m.use_hierarchy = node.maybe_bool("useHierarchy");
    m.check_before_update = node.maybe_bool("checkBeforeUpdate");
    return m;
}

CpuResources read_cpu(const JsonNode& node) {
    node.require_object();
    CpuResources c;
    c.shares = node.maybe_integer<uint64_t>("shares");
    c.quota = node.maybe_integer<int64_t>("quota");
    c.burst = node.maybe_integer<uint64_t>("burst");
    c.period = node.maybe_integer<uint64_t>("period");
    c.realtime_runtime = node.maybe_integer<int64_t>("realtimeRuntime");
    c.realtime_period = node.maybe_integer<uint64_t>("realtimePeriod");
    c.cpus = node.optional_string("cpus");
    c.mems = node.optional_string("mems");
    c.idle = node.maybe_integer<int64_t>("idle");
    return c;
}

std::vector<ThrottleDevice> read_throttle_devices(const JsonNode& block_io, std::string_view key) {
    std::vector<ThrottleDevice> devices;
    block_io.for_each_item(key, [&](const JsonNode& item, size_t) {
        item.require_object();
        ThrottleDevice d;
        d.major = item.required_integer<int64_t>("major", 0, UINT32_MAX);
        d.minor = item.required_integer<int64_t>("minor", 0, UINT32_MAX);
        d.rate = item.required_integer<uint64_t>("rate");
        devices.push_back(d);
    });
    return devices;
}

BlockIoResources read_block_io(const JsonNode& node) {
    node.require_object();
    BlockIoResources b;
    b.weight = node.maybe_integer<uint16_t>("weight");
    b.leaf_weight = node.maybe_integer<uint16_t>("leafWeight");
    node.for_each_item("weightDevice", [&](const JsonNode& item, size_t) {
        item.require_object();
        WeightDevice d;
        d.major = item.required_integer<int64_t>("major", 0, UINT32_MAX);
        d.minor = item.required_integer<int64_t>("minor", 0, UINT32_MAX);
        d.weight = item.maybe_integer<uint16_t>("weight");
        d.leaf_weight = item.maybe_integer<uint16_t>("leafWeight");
        b.weight_device.push_back(d);
    });
    b.throttle_read_bps_device = read_throttle_devices(node, "throttleReadBpsDevice");
    b.throttle_write_bps_device = read_throttle_devices(node, "throttleWriteBpsDevice");
    b.throttle_read_iops_device = read_throttle_devices(node, "throttleReadIOPSDevice");
    b.throttle_write_iops_device = read_throttle_devices(node, "throttleWriteIOPSDevice");
    return b;
}

NetworkResources read_network(const JsonNode& node) {
    node.require_object();
    NetworkResources n;
    n.class_id = node.maybe_integer<uint32_t>("classID");
    node.for_each_item("priorities", [&](const JsonNode& item, size_t) {
        item.require_object();
        n.priorities.push_back(
            NetworkPriority{item.member("name").as_nonempty_string(), item.required_integer<uint32_t>("priority")});
    });
    return n;
}

}  // namespace

Resources read_resources(const JsonNode& node) {
    node.require_object();
    Resources r;
    node.for_each_item("devices", [&](const JsonNode& item, size_t) { r.devices.push_back(read_device_rule(item)); });
    if (auto memory = node.optional_member("memory")) r.memory = read_memory(*memory);
    if (auto cpu = node.optional_member("cpu")) r.cpu = read_cpu(*cpu);
    if (auto pids = node.optional_member("pids")) {
        pids->require_object();
        r.pids = PidsResources{pids->maybe_integer<int64_t>("limit").value_or(0)};
    }
    if (auto block_io = node.optional_member("blockIO")) r.block_io = read_block_io(*block_io);
    node.for_each_item("hugepageLimits", [&](const JsonNode& item, size_t) {
        item.require_object();
        r.hugepage_limits.push_back(
            HugepageLimit{item.member("pageSize").as_nonempty_string(), item.required_integer<uint64_t>("limit")});
    });
    if (auto network = node.optional_member("network")) r.network = read_network(*network);
    r.unified = node.optional_string_map("unified");
    if (auto rdma = node.optional_member("rdma")) {
        for (const auto& device : rdma->object_keys()) {
            if (!rdma->has(device)) continue;
            auto limit = rdma->member(device);
            limit.require_object();
            r.rdma[device] = RdmaLimit{limit.maybe_integer<uint32_t>("hcaHandles"), limit.maybe_integer<uint32_t>("hcaObjects")};
        }
    }
    return r;
}

Resources parse_resources(std::string_view json_text) {
    return read_labelled_document(json_text, "resources.json",
                                  [](const JsonNode& node) { return read_resources(node); });
}

}  // namespace tether::spec
