#include "spec/stats.hpp"

#include <nlohmann/json.hpp>

namespace tether::spec {

namespace {

// ordered_json keeps runc's field order (Go marshals struct fields in order).
using json = nlohmann::ordered_json;

// Go's `omitempty` on a number: left out when zero.
void put_if_nonzero(json& object, const char* key, uint64_t value) {
    if (value != 0) object[key] = value;
}

json memory_entry(const MemoryEntryStats& entry) {
    json object = json::object();
    object["limit"] = entry.limit;
    put_if_nonzero(object, "usage", entry.usage);
    put_if_nonzero(object, "max", entry.max);
    object["failcnt"] = entry.failcnt;
    return object;
}

json cpu_json(const CpuStats& cpu) {
    json usage = json::object();
    put_if_nonzero(usage, "total", cpu.usage.total);
    if (!cpu.usage.percpu.empty()) usage["percpu"] = cpu.usage.percpu;
    if (!cpu.usage.percpu_kernel.empty()) usage["percpu_kernel"] = cpu.usage.percpu_kernel;
    if (!cpu.usage.percpu_user.empty()) usage["percpu_user"] = cpu.usage.percpu_user;
    usage["kernel"] = cpu.usage.kernel;
    usage["user"] = cpu.usage.user;
    json throttling = json::object();
    put_if_nonzero(throttling, "periods", cpu.throttling.periods);
    put_if_nonzero(throttling, "throttled_periods", cpu.throttling.throttled_periods);
    put_if_nonzero(throttling, "throttled_time", cpu.throttling.throttled_time);
    return json{{"usage", usage}, {"throttling", throttling}};
}

json memory_json(const MemoryStats& memory) {
    json object = json::object();
    put_if_nonzero(object, "cache", memory.cache);
    object["usage"] = memory_entry(memory.usage);
    object["swap"] = memory_entry(memory.swap);
    object["kernel"] = memory_entry(memory.kernel);
    object["kernelTCP"] = memory_entry(memory.kernel_tcp);
    if (!memory.raw.empty()) object["raw"] = memory.raw;
    return object;
}

}  // namespace

std::string stats_event_to_json(const std::string& container_id, const CgroupStats& stats) {
    json pids = json::object();
    put_if_nonzero(pids, "current", stats.pids.current);
    put_if_nonzero(pids, "limit", stats.pids.limit);
    json hugetlb = json::object();
    for (const auto& [size, entry] : stats.hugetlb) {
        json object = json::object();
        put_if_nonzero(object, "usage", entry.usage);
        put_if_nonzero(object, "max", entry.max);
        object["failcnt"] = entry.failcnt;
        hugetlb[size] = object;
    }
    json data = json::object();
    data["cpu"] = cpu_json(stats.cpu);
    data["cpuset"] = json::object();
    data["memory"] = memory_json(stats.memory);
    data["pids"] = pids;
    data["blkio"] = json::object();
    data["hugetlb"] = hugetlb;
    data["intel_rdt"] = json::object();
    data["network_interfaces"] = nullptr;
    json event = json::object();
    event["type"] = "stats";
    event["id"] = container_id;
    event["data"] = data;
    return event.dump();
}

std::string oom_event_to_json(const std::string& container_id) {
    json event = json::object();
    event["type"] = "oom";
    event["id"] = container_id;
    return event.dump();
}

}  // namespace tether::spec
