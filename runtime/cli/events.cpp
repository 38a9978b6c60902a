// tether events [--stats] [--interval 5s] ID: container statistics and OOM
// notifications as JSON lines, in runc's format. --stats prints one stats
// object and exits; otherwise one stats line per interval and an
// {"type":"oom"} line per OOM kill, until the container's init exits.
#include <cstdio>

#include "runtime/cli/cli.hpp"
#include "runtime/core/error.hpp"
#include "runtime/lifecycle/cgroup_verbs.hpp"

namespace tether::cli {

void add_events(CLI::App& app, const GlobalOptions& global, Action& action) {
    // Other event sources (e.g. --denials for the sandbox) add a flag here and
    // a branch in the action below.
    struct Args {
        std::string id;
        bool stats = false;
        std::string interval = "5s";
    };
    auto args = std::make_shared<Args>();
    CLI::App* cmd = app.add_subcommand("events", "display container events (statistics, OOM notifications)");
    cmd->add_flag("--stats", args->stats, "print one statistics object and exit");
    cmd->add_option("--interval", args->interval, "statistics interval (Go duration: 5s, 500ms, 1m)")
        ->capture_default_str();
    cmd->add_option("id", args->id, "container id")->required();
    cmd->callback([&global, &action, args] {
        action = [&global, args] {
            if (args->stats) {
                std::printf("%s\n", container_stats_json(global.store(), args->id).c_str());
                return 0;
            }
            stream_container_events(global.store(), args->id, parse_duration(args->interval),
                                    [](const std::string& line) {
                                        std::printf("%s\n", line.c_str());
                                        // A reader (a pipe, containerd) must see each event as it happens.
                                        std::fflush(stdout);
                                    });
            return 0;
        };
    });
}

}  // namespace tether::cli
