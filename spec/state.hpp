// state.json as the runtime-spec defines it (what `tether state` prints), plus
// the private fields tether keeps beside it in its state directory.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tether::spec {

struct State {
    std::string oci_version = "1.2.0";
    std::string id;
    std::string status;  // creating | created | running | paused | stopped
    int pid = 0;         // 0 when stopped
    std::string bundle;  // absolute
    std::string rootfs;  // absolute
    std::string created; // RFC 3339 with nanoseconds, UTC
    std::map<std::string, std::string> annotations;
    std::string owner;   // "" for root-owned containers
};

// The OCI state document, pretty-printed like runc (2-space indent).
std::string state_to_json(const State& state);
// `list --format json`: the same documents as one compact array, as runc prints it.
std::string states_to_json_array(const std::vector<State>& states);

// Runtime-private record stored in <root>/<id>/state.json.
struct StoredState {
    State oci;
    uint64_t init_start_time = 0;  // /proc/<pid>/stat field 22: guards pid reuse
    std::string cgroup_path;       // resolved cgroupsPath ("" = none)
    bool own_pid_namespace = true;
    bool rootless = false;
    int netd_pid = 0;              // per-container network daemon, 0 if none
    uint64_t netd_start_time = 0;
};

std::string stored_state_to_json(const StoredState& state);
StoredState parse_stored_state(std::string_view json_text);

}  // namespace tether::spec
