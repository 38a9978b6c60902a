// state.json: the OCI state `tether state` and `tether list --format json`
// print (byte-compatible with runc's), and the private record kept in
// <root>/<id>/state.json.
#include "spec/state.hpp"

#include <nlohmann/json.hpp>

#include "spec/json_reader.hpp"

namespace tether::spec {

namespace {

using ordered_json = nlohmann::ordered_json;

// Same keys in the same order as runc's containerState: tools that diff
// runc and tether output, and humans, see the same document.
ordered_json oci_state_object(const State& state) {
    ordered_json j;
    j["ociVersion"] = state.oci_version;
    j["id"] = state.id;
    j["pid"] = state.pid;
    j["status"] = state.status;
    j["bundle"] = state.bundle;
    j["rootfs"] = state.rootfs;
    j["created"] = state.created;
    if (!state.annotations.empty()) j["annotations"] = state.annotations;  // omitempty, as in runc
    j["owner"] = state.owner;
    return j;
}

// Strings come from the filesystem and the config; a non-UTF-8 byte must not
// turn `state` into an exception, so replace it instead of throwing.
std::string dump(const ordered_json& j, int indent) {
    return j.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

State read_oci_state(const JsonNode& node) {
    node.require_object();
    State state;
    state.oci_version = node.required_string("ociVersion");
    state.id = node.member("id").as_nonempty_string();
    state.status = node.required_string("status");
    state.pid = node.maybe_integer<int>("pid", 0).value_or(0);
    state.bundle = node.optional_string("bundle");
    state.rootfs = node.optional_string("rootfs");
    state.created = node.optional_string("created");
    state.annotations = node.optional_string_map("annotations");
    state.owner = node.optional_string("owner");
    return state;
}

}  // namespace

std::string state_to_json(const State& state) { return dump(oci_state_object(state), 2); }

std::string states_to_json_array(const std::vector<State>& states) {
    ordered_json array = ordered_json::array();
    for (const auto& state : states) array.push_back(oci_state_object(state));
    return dump(array, -1);
}

std::string stored_state_to_json(const StoredState& state) {
    ordered_json j;
    j["oci"] = oci_state_object(state.oci);
    j["initStartTime"] = state.init_start_time;
    j["cgroupPath"] = state.cgroup_path;
    j["ownPidNamespace"] = state.own_pid_namespace;
    j["rootless"] = state.rootless;
    j["netdPid"] = state.netd_pid;
    j["netdStartTime"] = state.netd_start_time;
    return dump(j, 2);
}

StoredState parse_stored_state(std::string_view json_text) {
    const nlohmann::json document = parse_json_document(json_text, "state.json");
    JsonNode top(document, "", "state.json");
    top.require_object();
    StoredState state;
    state.oci = read_oci_state(top.member("oci"));
    state.init_start_time = top.maybe_integer<uint64_t>("initStartTime").value_or(0);
    state.cgroup_path = top.optional_string("cgroupPath");
    state.own_pid_namespace = top.optional_bool("ownPidNamespace", true);
    state.rootless = top.optional_bool("rootless", false);
    state.netd_pid = top.maybe_integer<int>("netdPid", 0).value_or(0);
    state.netd_start_time = top.maybe_integer<uint64_t>("netdStartTime").value_or(0);
    return state;
}

}  // namespace tether::spec
