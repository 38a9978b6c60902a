// tether resume ID: thaws a paused container; `state` reports "running" again.
#include "runtime/cli/cli.hpp"
#include "runtime/lifecycle/cgroup_verbs.hpp"

namespace tether::cli {

void add_resume(CLI::App& app, const GlobalOptions& global, Action& action) {
    add_id_verb(app, global, action, "resume", "resume all processes of a paused container",
                [](const StateStore& store, const std::string& id) { resume_container(store, id); });
}

}  // namespace tether::cli
