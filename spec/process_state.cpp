#include "spec/process_state.hpp"

#include <nlohmann/json.hpp>

namespace tether::spec {

std::string container_process_state_to_json(const ContainerProcessState& process_state) {
    const State& state = process_state.state;
    nlohmann::ordered_json state_json = {
        {"ociVersion", state.oci_version},
        {"id", state.id},
        {"status", state.status},
    };
    if (state.pid != 0) state_json["pid"] = state.pid;
    state_json["bundle"] = state.bundle;
    if (!state.annotations.empty()) state_json["annotations"] = state.annotations;

    nlohmann::ordered_json json = {
        {"ociVersion", process_state.oci_version},
        {"fds", process_state.fds},
        {"pid", process_state.pid},
    };
    if (!process_state.metadata.empty()) json["metadata"] = process_state.metadata;
    json["state"] = std::move(state_json);
    return json.dump();
}

}  // namespace tether::spec
