// add_id_verb (cli.hpp): the registration the id-only verbs share.
#include <memory>

#include "runtime/cli/cli.hpp"

namespace tether::cli {

void add_id_verb(CLI::App& app, const GlobalOptions& global, Action& action, const std::string& name,
                 const std::string& description, IdVerb run) {
    auto id = std::make_shared<std::string>();
    CLI::App* cmd = app.add_subcommand(name, description);
    cmd->add_option("id", *id, "container id")->required();
    cmd->callback([&global, &action, id, run = std::move(run)] {
        action = [&global, id, run] {
            run(global.store(), *id);
            return 0;
        };
    });
}

}  // namespace tether::cli
