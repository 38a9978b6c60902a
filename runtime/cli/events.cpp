// tether events [--stats] [--interval 5s] ID: container statistics and OOM
// notifications as JSON lines, in runc's format. --stats prints one stats
// object and exits; otherwise one stats line per interval and an
// {"type":"oom"} line per OOM kill, until the container's init exits.
#include <cstdio>

#include "runtime/cli/cli.hpp"
#include <unistd.h>

#include "hooks/protocol.hpp"
#include "runtime/core/error.hpp"
#include "runtime/core/fs.hpp"
#include "runtime/lifecycle/sandbox_setup.hpp"
#include "runtime/lifecycle/cgroup_verbs.hpp"
#include "runtime/lifecycle/netd_client.hpp"

namespace tether::cli {
namespace {

// The decision log is tether-netd's (hooks/common/decision_log); its own
// `decisions` command formats it, so tether itself links nothing of hooks/.
void show_sandbox_decisions(const StateStore& store, const std::string& id, bool denials_only, size_t last) {
    std::string log_path = store.open(id).path() + "/" + hooks::protocol::kDecisionLogName;
    if (!fs::exists(log_path))
        throw Error("container " + id + " has no sandbox decision log (no run.tether.network.* policy?)");
    flush_network_daemon_log(store.open(id).path());
    std::string netd = find_netd_binary();
    std::string count = std::to_string(last);
    std::vector<const char*> argv = {"tether-netd", "decisions", "--last", count.c_str()};
    if (denials_only) argv.push_back("--denials");
    argv.push_back(log_path.c_str());
    argv.push_back(nullptr);
    std::fflush(stdout);
    ::execv(netd.c_str(), const_cast<char* const*>(argv.data()));
    throw_errno("exec " + netd);
}

}  // namespace

void add_events(CLI::App& app, const GlobalOptions& global, Action& action) {
    // Other event sources (e.g. --denials for the sandbox) add a flag here and
    // a branch in the action below.
    struct Args {
        std::string id;
        bool stats = false;
        bool denials = false;
        bool decisions = false;
        size_t last = 50;
        std::string interval = "5s";
    };
    auto args = std::make_shared<Args>();
    CLI::App* cmd = app.add_subcommand("events", "display container events (statistics, OOM notifications)");
    cmd->add_flag("--stats", args->stats, "print one statistics object and exit");
    cmd->add_option("--interval", args->interval, "statistics interval (Go duration: 5s, 500ms, 1m)")
        ->capture_default_str();
    cmd->add_flag("--denials", args->denials, "print the sandbox's recent denials as a table");
    cmd->add_flag("--decisions", args->decisions, "print the sandbox's recent decisions (allowed and denied)");
    cmd->add_option("--last", args->last, "with --denials/--decisions: how many (default 50)");
    cmd->add_option("id", args->id, "container id")->required();
    cmd->callback([&global, &action, args] {
        action = [&global, args] {
            if (args->denials || args->decisions) {
                show_sandbox_decisions(global.store(), args->id, args->denials, args->last);
                return 0;
            }
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
