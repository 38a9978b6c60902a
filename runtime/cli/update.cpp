// tether update [--resources FILE | -r - | resource flags] ID: changes the
// live cgroup limits of a container. As in runc, a resources document
// (linux.resources JSON) wins over the flags; memory flags accept k/m/g
// suffixes and -1 for unlimited.
#include <iostream>
#include <iterator>

#include "runtime/cli/cli.hpp"
#include "runtime/core/error.hpp"
#include "runtime/core/fs.hpp"
#include "runtime/lifecycle/cgroup_verbs.hpp"

namespace tether::cli {
namespace {

std::string read_resources_document(const std::string& path) {
    if (path != "-") return fs::read_file(path, 4 * 1024 * 1024);
    std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    if (std::cin.bad()) throw Error("update: cannot read the resources from standard input");
    return text;
}

}  // namespace

void add_update(CLI::App& app, const GlobalOptions& global, Action& action) {
    struct Args {
        std::string id;
        std::string resources_path;
        UpdateFlags flags;
    };
    auto args = std::make_shared<Args>();
    CLI::App* cmd = app.add_subcommand("update", "update the resource limits of a container");
    cmd->add_option("-r,--resources", args->resources_path,
                    "file with the linux.resources JSON to apply, or - for standard input");
    UpdateFlags& f = args->flags;
    cmd->add_option("--memory", f.memory, "memory limit (bytes, or with k/m/g; -1 = unlimited)");
    cmd->add_option("--memory-reservation", f.memory_reservation, "memory reservation (soft limit)");
    cmd->add_option("--memory-swap", f.memory_swap, "total memory + swap limit; -1 = unlimited swap");
    cmd->add_option("--kernel-memory", f.kernel_memory, "kernel memory limit (ignored by kernels >= 5.16)");
    cmd->add_option("--kernel-memory-tcp", f.kernel_memory_tcp, "kernel TCP buffer limit");
    cmd->add_option("--cpu-quota", f.cpu_quota, "CFS quota in microseconds per period (-1 = unlimited)");
    cmd->add_option("--cpu-period", f.cpu_period, "CFS period in microseconds");
    cmd->add_option("--cpu-share", f.cpu_share, "CPU shares (relative weight)");
    cmd->add_option("--cpu-rt-period", f.cpu_rt_period, "realtime period in microseconds");
    cmd->add_option("--cpu-rt-runtime", f.cpu_rt_runtime, "realtime runtime in microseconds per period");
    cmd->add_option("--cpuset-cpus", f.cpuset_cpus, "CPUs the container may use (e.g. 0-1)");
    cmd->add_option("--cpuset-mems", f.cpuset_mems, "memory nodes the container may use");
    cmd->add_option("--pids-limit", f.pids_limit, "maximum number of processes (0 or -1 = unlimited)");
    cmd->add_option("--blkio-weight", f.blkio_weight, "block IO weight (10-1000)");
    cmd->add_option("id", args->id, "container id")->required();
    cmd->callback([&global, &action, args] {
        action = [&global, args] {
            spec::Resources resources = args->resources_path.empty()
                                            ? resources_from_flags(args->flags)
                                            : spec::parse_resources(read_resources_document(args->resources_path));
            update_container(global.store(), args->id, std::move(resources));
            return 0;
        };
    });
}

}  // namespace tether::cli
