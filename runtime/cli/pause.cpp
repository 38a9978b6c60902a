// tether pause ID: freezes every process of a running container (freezer
// on v1, cgroup.freeze on v2); `state` then reports "paused".
#include "runtime/cli/cli.hpp"
#include "runtime/lifecycle/cgroup_verbs.hpp"

namespace tether::cli {

void add_pause(CLI::App& app, const GlobalOptions& global, Action& action) {
    auto id = std::make_shared<std::string>();
    CLI::App* cmd = app.add_subcommand("pause", "suspend all processes of a container");
    cmd->add_option("id", *id, "container id")->required();
    cmd->callback([&global, &action, id] {
        action = [&global, id] {
            pause_container(global.store(), *id);
            return 0;
        };
    });
}

}  // namespace tether::cli
