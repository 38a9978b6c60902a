// tether state ID: the runtime-spec state document on stdout.
#include <cstdio>

#include "runtime/cli/cli.hpp"
#include "runtime/lifecycle/operations.hpp"

namespace tether::cli {

void add_state(CLI::App& app, const GlobalOptions& global, Action& action) {
    add_id_verb(app, global, action, "state", "print the state of a container",
                [](const StateStore& store, const std::string& id) {
                    std::string json = container_state_json(store, id);
                    std::fputs(json.c_str(), stdout);
                    std::fputs("\n", stdout);
                });
}

}  // namespace tether::cli
