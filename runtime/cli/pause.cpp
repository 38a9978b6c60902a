// tether pause ID: freezes every process of a running container (freezer
// on v1, cgroup.freeze on v2); `state` then reports "paused".
#include "runtime/cli/cli.hpp"
#include "runtime/lifecycle/cgroup_verbs.hpp"

namespace tether::cli {

void add_pause(CLI::App& app, const GlobalOptions& global, Action& action) {
    add_id_verb(app, global, action, "pause", "suspend all processes of a container",
                [](const StateStore& store, const std::string& id) { pause_container(store, id); });
}

}  // namespace tether::cli
