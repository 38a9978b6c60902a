// linux.resources on cgroup v1, file by file as runc's libcontainer/cgroups/fs.
#include "runtime/cgroups/cgroup_fs.hpp"
#include "runtime/cgroups/convert.hpp"
#include "runtime/cgroups/v1_manager.hpp"
#include "runtime/core/error.hpp"

namespace tether::cgroups {

void V1Manager::apply_resources(const spec::Resources& resources) {
    if (!resources.unified.empty())
        throw Error("linux.resources.unified: key \"" + resources.unified.begin()->first +
                    "\" requires cgroup v2, but this host uses cgroup v1 controllers");
    if (!resources.devices.empty()) apply_devices(resources.devices);
    if (resources.memory) apply_memory(*resources.memory);
    if (resources.cpu) apply_cpu(*resources.cpu);
    if (resources.pids) {
        // runc: a limit <= 0 means unlimited.
        const int64_t limit = resources.pids->limit;
        write_file(require_dir("pids", "linux.resources.pids.limit"), "pids.max",
                   limit > 0 ? std::to_string(limit) : "max");
    }
    if (resources.block_io) apply_block_io(*resources.block_io);
    if (!resources.hugepage_limits.empty()) apply_hugetlb(resources.hugepage_limits);
    if (resources.network) apply_network(*resources.network);
}

void V1Manager::apply_devices(const std::vector<spec::DeviceRule>& rules) {
    const std::string dir = dir_of("devices");
    if (dir.empty()) {
        // runc ignores device cgroup errors for rootless containers: only
        // root may change devices.allow/deny.
        if (rootless_) {
            warn("cgroups: rootless: device rules not applied (no devices cgroup)");
            return;
        }
        require_dir("devices", "linux.resources.devices");
    }
    // Rules are written in order; the kernel keeps "last write wins"
    // semantics, and a leading deny-all resets the list to default-deny.
    // Each file is opened once, not once per rule (podman sends a dozen).
    UniqueFd allow_file, deny_file;
    for (const auto& rule : rules) {
        UniqueFd& file = rule.allow ? allow_file : deny_file;
        if (!file) file = open_control_file(dir, rule.allow ? "devices.allow" : "devices.deny");
        const int err = file ? try_write_value(file.get(), v1_device_rule_line(rule)) : errno;
        if (err == 0) continue;
        if (rootless_ && (err == EPERM || err == EACCES)) {
            warn("cgroups: rootless: device rules not applied (" + std::string(std::strerror(err)) + ")");
            return;
        }
        throw Error("cgroups: write \"" + v1_device_rule_line(rule) + "\" to " +
                        join_path(dir, rule.allow ? "devices.allow" : "devices.deny"),
                    err);
    }
}

void V1Manager::apply_memory(const spec::MemoryResources& memory) {
    const std::string dir = require_dir("memory", "linux.resources.memory");
    int64_t limit = memory.limit.value_or(0);
    int64_t swap = memory.swap.value_or(0);
    // runc: an unlimited memory request without a swap request also lifts
    // the memory+swap limit, where the kernel has one.
    if (limit == -1 && swap == 0 && path_exists(join_path(dir, "memory.memsw.limit_in_bytes"))) swap = -1;
    auto set_limit = [&] {
        if (limit != 0) write_file(dir, "memory.limit_in_bytes", std::to_string(limit));
    };
    auto set_swap = [&] {
        if (swap != 0) write_file(dir, "memory.memsw.limit_in_bytes", std::to_string(swap));
    };
    // The kernel refuses memsw < limit at every instant, so raising both
    // must write swap first and lowering both must write the limit first.
    bool swap_first = false;
    if (limit != 0 && swap != 0) {
        const uint64_t current = read_uint(dir, "memory.limit_in_bytes");
        swap_first = swap == -1 || current < static_cast<uint64_t>(swap);
    }
    if (swap_first) {
        set_swap();
        set_limit();
    } else {
        set_limit();
        set_swap();
    }
    if (memory.reservation && *memory.reservation != 0)
        write_file(dir, "memory.soft_limit_in_bytes", std::to_string(*memory.reservation));
    if (memory.kernel && *memory.kernel != 0) {
        // Kernel 5.16+ no longer enforces kmem limits (the write fails or the
        // file is gone); runc ignores the setting, so do we, loudly.
        if (try_write_file(dir, "memory.kmem.limit_in_bytes", std::to_string(*memory.kernel)) != 0)
            warn("cgroups: linux.resources.memory.kernel is not supported by this kernel; ignored");
    }
    if (memory.kernel_tcp && *memory.kernel_tcp != 0) {
        if (try_write_file(dir, "memory.kmem.tcp.limit_in_bytes", std::to_string(*memory.kernel_tcp)) != 0)
            warn("cgroups: linux.resources.memory.kernelTCP is not supported by this kernel; ignored");
    }
    if (memory.disable_oom_killer.value_or(false)) write_file(dir, "memory.oom_control", "1");
    if (memory.swappiness) {
        // -1 (as uint64 wrap-around) is runc's "leave as is".
        const uint64_t swappiness = *memory.swappiness;
        if (static_cast<int64_t>(swappiness) != -1) {
            if (swappiness > 100)
                throw Error("linux.resources.memory.swappiness: invalid value " + std::to_string(swappiness) +
                            " (valid range is 0-100)");
            write_file(dir, "memory.swappiness", std::to_string(swappiness));
        }
    }
}

void V1Manager::apply_cpu(const spec::CpuResources& cpu) {
    const bool wants_cpu = cpu.shares.value_or(0) || cpu.quota.value_or(0) || cpu.period.value_or(0) ||
                           cpu.burst || cpu.realtime_period.value_or(0) || cpu.realtime_runtime.value_or(0) ||
                           cpu.idle;
    if (wants_cpu) {
        const std::string dir = require_dir("cpu", "linux.resources.cpu");
        // Realtime first: the runtime budget must fit the period.
        if (cpu.realtime_period.value_or(0))
            write_file(dir, "cpu.rt_period_us", std::to_string(*cpu.realtime_period));
        if (cpu.realtime_runtime.value_or(0))
            write_file(dir, "cpu.rt_runtime_us", std::to_string(*cpu.realtime_runtime));
        if (const uint64_t shares = cpu.shares.value_or(0)) {
            write_file(dir, "cpu.shares", std::to_string(shares));
            // The kernel clamps silently; runc reports the clamp as an error.
            const uint64_t applied = read_uint(dir, "cpu.shares");
            if (applied != shares)
                throw Error("linux.resources.cpu.shares: " + std::to_string(shares) + " is out of range (the " +
                            (shares > applied ? "maximum" : "minimum") + " allowed cpu-shares is " +
                            std::to_string(applied) + ")");
        }
        std::string period, burst;
        if (cpu.period.value_or(0)) {
            period = std::to_string(*cpu.period);
            // May fail with EINVAL when the current quota does not fit the
            // new period; written again after the quota below.
            if (int err = try_write_file(dir, "cpu.cfs_period_us", period); err != 0 && err != EINVAL)
                throw Error("cgroups: write \"" + period + "\" to " + join_path(dir, "cpu.cfs_period_us"), err);
        }
        if (cpu.burst) {
            burst = std::to_string(*cpu.burst);
            if (int err = try_write_file(dir, "cpu.cfs_burst_us", burst); err != 0 && err != EINVAL)
                throw Error("cgroups: write \"" + burst + "\" to " + join_path(dir, "cpu.cfs_burst_us"), err);
        }
        if (cpu.quota.value_or(0)) {
            write_file(dir, "cpu.cfs_quota_us", std::to_string(*cpu.quota));
            if (!period.empty()) write_file(dir, "cpu.cfs_period_us", period);
            if (!burst.empty()) write_file(dir, "cpu.cfs_burst_us", burst);
        }
        if (cpu.idle) {
            if (!path_exists(join_path(dir, "cpu.idle")))
                throw Error("linux.resources.cpu.idle: this kernel has no " + join_path(dir, "cpu.idle"));
            write_file(dir, "cpu.idle", std::to_string(*cpu.idle));
        }
    }
    if (!cpu.cpus.empty()) write_file(require_dir("cpuset", "linux.resources.cpu.cpus"), "cpuset.cpus", cpu.cpus);
    if (!cpu.mems.empty()) write_file(require_dir("cpuset", "linux.resources.cpu.mems"), "cpuset.mems", cpu.mems);
}

void V1Manager::apply_block_io(const spec::BlockIoResources& block_io) {
    const bool wants = block_io.weight.value_or(0) || block_io.leaf_weight.value_or(0) ||
                       !block_io.weight_device.empty() || !block_io.throttle_read_bps_device.empty() ||
                       !block_io.throttle_write_bps_device.empty() || !block_io.throttle_read_iops_device.empty() ||
                       !block_io.throttle_write_iops_device.empty();
    if (!wants) return;
    const std::string dir = require_dir("blkio", "linux.resources.blockIO");
    // BFQ replaced CFQ; runc prefers its files when they exist.
    const bool bfq = path_exists(join_path(dir, "blkio.bfq.weight"));
    const std::string weight_file = bfq ? "blkio.bfq.weight" : "blkio.weight";
    const std::string weight_device_file = bfq ? "blkio.bfq.weight_device" : "blkio.weight_device";
    if (block_io.weight.value_or(0)) write_file(dir, weight_file, std::to_string(*block_io.weight));
    if (block_io.leaf_weight.value_or(0))
        write_file(dir, "blkio.leaf_weight", std::to_string(*block_io.leaf_weight));
    for (const auto& device : block_io.weight_device) {
        if (device.weight.value_or(0))
            write_file(dir, weight_device_file,
                       device_pair(device.major, device.minor) + " " + std::to_string(*device.weight));
        if (device.leaf_weight.value_or(0))
            write_file(dir, "blkio.leaf_weight_device",
                       device_pair(device.major, device.minor) + " " + std::to_string(*device.leaf_weight));
    }
    auto throttle = [&](const std::vector<spec::ThrottleDevice>& devices, const char* file) {
        for (const auto& device : devices)
            write_file(dir, file, device_pair(device.major, device.minor) + " " + std::to_string(device.rate));
    };
    throttle(block_io.throttle_read_bps_device, "blkio.throttle.read_bps_device");
    throttle(block_io.throttle_write_bps_device, "blkio.throttle.write_bps_device");
    throttle(block_io.throttle_read_iops_device, "blkio.throttle.read_iops_device");
    throttle(block_io.throttle_write_iops_device, "blkio.throttle.write_iops_device");
}

void V1Manager::apply_hugetlb(const std::vector<spec::HugepageLimit>& limits) {
    const std::string dir = require_dir("hugetlb", "linux.resources.hugepageLimits");
    for (const auto& limit : limits) {
        const std::string file = "hugetlb." + limit.page_size + ".limit_in_bytes";
        if (!path_exists(join_path(dir, file)))
            throw Error("linux.resources.hugepageLimits: page size \"" + limit.page_size +
                        "\" is not supported here (no " + join_path(dir, file) + ")");
        write_file(dir, file, std::to_string(limit.limit));
        // Reservations (5.7+) must not stay below the limit, or mmap fails first.
        const std::string reserved = "hugetlb." + limit.page_size + ".rsvd.limit_in_bytes";
        if (path_exists(join_path(dir, reserved))) write_file(dir, reserved, std::to_string(limit.limit));
    }
}

void V1Manager::apply_network(const spec::NetworkResources& network) {
    if (network.class_id)
        write_file(require_dir("net_cls", "linux.resources.network.classID"), "net_cls.classid",
                   std::to_string(*network.class_id));
    for (const auto& priority : network.priorities)
        write_file(require_dir("net_prio", "linux.resources.network.priorities"), "net_prio.ifpriomap",
                   priority.name + " " + std::to_string(priority.priority));
}

}  // namespace tether::cgroups
