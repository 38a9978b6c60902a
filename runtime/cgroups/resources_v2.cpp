// linux.resources on cgroup v2, converted from the v1-flavoured OCI values
// exactly as runc's libcontainer/cgroups/fs2 does.
#include <fcntl.h>

#include "runtime/cgroups/cgroup_fs.hpp"
#include "runtime/cgroups/convert.hpp"
#include "runtime/cgroups/device_filter_bpf.hpp"
#include "runtime/cgroups/v2_manager.hpp"
#include "runtime/core/error.hpp"

namespace tether::cgroups {

void V2Manager::apply_resources(const spec::Resources& resources) {
    if (tracking_only_) return;  // hybrid: limits live in the v1 hierarchies
    if (!available_) {
        // Rootless without a cgroup: fine as long as nothing is asked of it.
        const bool asks = resources.memory || resources.cpu || resources.pids || resources.block_io ||
                          !resources.hugepage_limits.empty() || !resources.unified.empty();
        if (asks) require_available("linux.resources");
        if (!resources.devices.empty()) warn("cgroups: rootless: device rules not applied (no cgroup)");
        return;
    }
    if (resources.pids) {
        const int64_t limit = resources.pids->limit;
        write_file(dir_, "pids.max", limit > 0 ? std::to_string(limit) : "max");
    }
    if (resources.memory) apply_memory(*resources.memory);
    if (resources.block_io) apply_io(*resources.block_io);
    if (resources.cpu) apply_cpu(*resources.cpu);
    if (!resources.devices.empty()) apply_devices(resources.devices);
    if (!resources.hugepage_limits.empty()) apply_hugetlb(resources.hugepage_limits);
    if (resources.network && (resources.network->class_id || !resources.network->priorities.empty()))
        warn("cgroups: linux.resources.network has no cgroup v2 equivalent; ignored");
    // Last, so a raw key can override a converted value (runc's order).
    apply_unified(resources.unified);
}

void V2Manager::apply_memory(const spec::MemoryResources& memory) {
    const int64_t limit = memory.limit.value_or(0);
    const int64_t requested_swap = memory.swap.value_or(0);
    const int64_t swap = memory_swap_to_v2(requested_swap, limit);
    std::string swap_value = limit_to_v2_string(swap);
    // swap == limit means "no swap at all", which is 0, not "unset".
    if (swap_value.empty() && swap == 0 && requested_swap > 0) swap_value = "0";
    if (!swap_value.empty()) {
        const int err = try_write_file(dir_, "memory.swap.max", swap_value);
        // Without swap accounting the file is missing; "max" and "0" then
        // already hold, so only a real swap limit is an error.
        if (err != 0 && !(err == ENOENT && (swap_value == "max" || swap_value == "0")))
            throw Error("cgroups: write \"" + swap_value + "\" to " + join_path(dir_, "memory.swap.max"), err);
    }
    if (const std::string value = limit_to_v2_string(limit); !value.empty()) write_file(dir_, "memory.max", value);
    if (const std::string value = limit_to_v2_string(memory.reservation.value_or(0)); !value.empty())
        write_file(dir_, "memory.low", value);
    if (memory.kernel.value_or(0) || memory.kernel_tcp.value_or(0))
        warn("cgroups: kernel memory limits do not exist on cgroup v2; linux.resources.memory.kernel ignored");
    if (memory.swappiness && static_cast<int64_t>(*memory.swappiness) != -1)
        warn("cgroups: linux.resources.memory.swappiness has no cgroup v2 equivalent; ignored");
    if (memory.disable_oom_killer.value_or(false))
        warn("cgroups: linux.resources.memory.disableOOMKiller has no cgroup v2 equivalent; ignored");
}

void V2Manager::apply_cpu(const spec::CpuResources& cpu) {
    if (cpu.realtime_period.value_or(0) || cpu.realtime_runtime.value_or(0))
        throw Error("linux.resources.cpu.realtimeRuntime/realtimePeriod: not supported on cgroup v2");
    if (cpu.idle) write_file(dir_, "cpu.idle", std::to_string(*cpu.idle));
    if (const uint64_t weight = cpu_shares_to_weight(cpu.shares.value_or(0)))
        write_file(dir_, "cpu.weight", std::to_string(weight));
    std::string burst;
    if (cpu.burst) {
        burst = std::to_string(*cpu.burst);
        // May be refused until cpu.max allows it; written again below.
        if (int err = try_write_file(dir_, "cpu.max.burst", burst); err != 0 && err != EINVAL)
            throw Error("cgroups: write \"" + burst + "\" to " + join_path(dir_, "cpu.max.burst"), err);
    }
    if (auto max = cpu_max_value(cpu.quota, cpu.period)) {
        write_file(dir_, "cpu.max", *max);
        if (!burst.empty()) write_file(dir_, "cpu.max.burst", burst);
    }
    if (!cpu.cpus.empty()) write_file(dir_, "cpuset.cpus", cpu.cpus);
    if (!cpu.mems.empty()) write_file(dir_, "cpuset.mems", cpu.mems);
}

void V2Manager::apply_io(const spec::BlockIoResources& block_io) {
    const bool bfq = path_exists(join_path(dir_, "io.bfq.weight"));
    if (const uint64_t weight = block_io.weight.value_or(0)) {
        if (bfq)
            write_file(dir_, "io.bfq.weight", std::to_string(weight));
        else
            write_file(dir_, "io.weight", std::to_string(blkio_weight_to_io_weight(weight)));
    }
    if (block_io.leaf_weight.value_or(0))
        warn("cgroups: linux.resources.blockIO.leafWeight has no cgroup v2 equivalent; ignored");
    // Only BFQ has per-device weights on v2.
    for (const auto& device : block_io.weight_device) {
        if (!device.weight.value_or(0)) continue;
        if (!bfq) {
            warn("cgroups: linux.resources.blockIO.weightDevice needs the BFQ scheduler (no io.bfq.weight); ignored");
            break;
        }
        write_file(dir_, "io.bfq.weight", device_pair(device.major, device.minor) + " " +
                                              std::to_string(*device.weight));
    }
    auto throttle = [&](const std::vector<spec::ThrottleDevice>& devices, const char* key) {
        for (const auto& device : devices)
            write_file(dir_, "io.max",
                       device_pair(device.major, device.minor) + " " + key + "=" + std::to_string(device.rate));
    };
    throttle(block_io.throttle_read_bps_device, "rbps");
    throttle(block_io.throttle_write_bps_device, "wbps");
    throttle(block_io.throttle_read_iops_device, "riops");
    throttle(block_io.throttle_write_iops_device, "wiops");
}

void V2Manager::apply_devices(const std::vector<spec::DeviceRule>& rules) {
    const auto program = build_device_filter(rules);
    UniqueFd dir_fd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd) throw Error("cgroups: open " + dir_, errno);
    try {
        UniqueFd program_fd = load_device_filter(program);
        attach_device_filter(dir_fd.get(), program_fd.get());
    } catch (const Error& error) {
        // Loading BPF needs CAP_BPF/CAP_SYS_ADMIN in the initial namespace;
        // runc ignores device errors for rootless containers.
        if (rootless_ && (error.error_number() == EPERM || error.error_number() == EACCES)) {
            warn(std::string("cgroups: rootless: device rules not applied (") + error.what() + ")");
            return;
        }
        throw;
    }
}

void V2Manager::apply_hugetlb(const std::vector<spec::HugepageLimit>& limits) {
    for (const auto& limit : limits) {
        const std::string file = "hugetlb." + limit.page_size + ".max";
        if (!path_exists(join_path(dir_, file)))
            throw Error("linux.resources.hugepageLimits: page size \"" + limit.page_size +
                        "\" is not available here (no " + join_path(dir_, file) + ")");
        write_file(dir_, file, std::to_string(limit.limit));
        const std::string reserved = "hugetlb." + limit.page_size + ".rsvd.max";
        if (path_exists(join_path(dir_, reserved))) write_file(dir_, reserved, std::to_string(limit.limit));
    }
}

void V2Manager::apply_unified(const std::map<std::string, std::string>& unified) {
    const auto available = controllers();
    for (const auto& [key, value] : unified) {
        // A key is a file name in this cgroup, never a path: "../x" or
        // "a/b" would write outside the container's cgroup.
        if (key.find('/') != std::string::npos)
            throw Error("linux.resources.unified: key \"" + key + "\" must be a file name (no slashes)");
        const size_t dot = key.find('.');
        if (dot == std::string::npos || dot == 0)
            throw Error("linux.resources.unified: key \"" + key + "\" must be in the form CONTROLLER.PARAMETER");
        const int err = try_write_file(dir_, key, value);
        if (err == 0) continue;
        const std::string controller = key.substr(0, dot);
        if ((err == ENOENT || err == EPERM || err == EACCES) && controller != "cgroup" &&
            !available.count(controller))
            throw Error("linux.resources.unified: key \"" + key + "\" cannot be set: controller \"" + controller +
                        "\" is not available in " + dir_);
        throw Error("linux.resources.unified: write \"" + value + "\" to " + join_path(dir_, key), err);
    }
}

}  // namespace tether::cgroups
