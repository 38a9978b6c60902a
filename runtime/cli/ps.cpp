// tether ps: PLACEHOLDER being written by its owner; replaced before it lands.
#include "runtime/cli/cli.hpp"
#include "runtime/core/error.hpp"

namespace tether::cli {

void add_ps(CLI::App& app, const GlobalOptions& global, Action& action) {
    CLI::App* cmd = app.add_subcommand("ps", "not implemented yet");
    cmd->allow_extras();
    cmd->callback([&action] { action = []() -> int { throw Error("ps: not implemented yet"); }; });
    (void)global;
}

}  // namespace tether::cli
