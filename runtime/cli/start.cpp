// tether start ID
#include "runtime/cli/cli.hpp"
#include "runtime/lifecycle/operations.hpp"

namespace tether::cli {

void add_start(CLI::App& app, const GlobalOptions& global, Action& action) {
    auto id = std::make_shared<std::string>();
    CLI::App* cmd = app.add_subcommand("start", "start a created container");
    cmd->add_option("id", *id, "container id")->required();
    cmd->callback([&global, &action, id] {
        action = [&global, id] {
            start_container(global.store(), *id);
            return 0;
        };
    });
}

}  // namespace tether::cli
