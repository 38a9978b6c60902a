// tether state ID: the runtime-spec state document on stdout.
#include <cstdio>

#include "runtime/cli/cli.hpp"
#include "runtime/lifecycle/operations.hpp"

namespace tether::cli {

void add_state(CLI::App& app, const GlobalOptions& global, Action& action) {
    auto id = std::make_shared<std::string>();
    CLI::App* cmd = app.add_subcommand("state", "print the state of a container");
    cmd->add_option("id", *id, "container id")->required();
    cmd->callback([&global, &action, id] {
        action = [&global, id] {
            std::string json = container_state_json(global.store(), *id);
            std::fputs(json.c_str(), stdout);
            std::fputs("\n", stdout);
            return 0;
        };
    });
}

}  // namespace tether::cli
