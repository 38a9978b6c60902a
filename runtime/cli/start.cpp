// tether start ID
#include "runtime/cli/cli.hpp"
#include "runtime/lifecycle/operations.hpp"

namespace tether::cli {

void add_start(CLI::App& app, const GlobalOptions& global, Action& action) {
    add_id_verb(app, global, action, "start", "start a created container",
                [](const StateStore& store, const std::string& id) { start_container(store, id); });
}

}  // namespace tether::cli
