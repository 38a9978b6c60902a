// tether kill [--all] ID [SIGNAL]: SIGNAL by number or name, default SIGTERM.
#include "runtime/cli/cli.hpp"
#include "runtime/lifecycle/operations.hpp"

namespace tether::cli {

void add_kill(CLI::App& app, const GlobalOptions& global, Action& action) {
    struct Args {
        std::string id;
        std::string signal = "SIGTERM";
        bool all = false;
    };
    auto args = std::make_shared<Args>();
    CLI::App* cmd = app.add_subcommand("kill", "send a signal to a container's init (or all its processes)");
    cmd->add_flag("-a,--all", args->all, "signal every process of the container");
    cmd->add_option("id", args->id, "container id")->required();
    cmd->add_option("signal", args->signal, "signal number or name (default SIGTERM)");
    cmd->callback([&global, &action, args] {
        action = [&global, args] {
            kill_container(global.store(), args->id, parse_signal(args->signal), args->all);
            return 0;
        };
    });
}

}  // namespace tether::cli
