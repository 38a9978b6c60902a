// tether delete [--force] ID
#include "runtime/cli/cli.hpp"
#include "runtime/lifecycle/operations.hpp"

namespace tether::cli {

void add_delete(CLI::App& app, const GlobalOptions& global, Action& action) {
    struct Args {
        std::string id;
        bool force = false;
    };
    auto args = std::make_shared<Args>();
    CLI::App* cmd = app.add_subcommand("delete", "delete a container's resources");
    cmd->add_flag("-f,--force", args->force, "kill a running container first; an unknown id is not an error");
    cmd->add_option("id", args->id, "container id")->required();
    cmd->callback([&global, &action, args] {
        action = [&global, args] {
            delete_container(global.store(), args->id, args->force);
            return 0;
        };
    });
}

}  // namespace tether::cli
