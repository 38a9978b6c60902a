// tether resume ID: thaws a paused container; `state` reports "running" again.
#include "runtime/cli/cli.hpp"
#include "runtime/lifecycle/cgroup_verbs.hpp"

namespace tether::cli {

void add_resume(CLI::App& app, const GlobalOptions& global, Action& action) {
    auto id = std::make_shared<std::string>();
    CLI::App* cmd = app.add_subcommand("resume", "resume all processes of a paused container");
    cmd->add_option("id", *id, "container id")->required();
    cmd->callback([&global, &action, id] {
        action = [&global, id] {
            resume_container(global.store(), *id);
            return 0;
        };
    });
}

}  // namespace tether::cli
