// The runtime-spec's ContainerProcessState: what the runtime sends to a
// seccomp agent at linux.seccomp.listenerPath together with the listener fd.
#pragma once

#include <string>
#include <vector>

#include "spec/state.hpp"

namespace tether::spec {

struct ContainerProcessState {
    std::string oci_version = "1.2.0";
    // Names of the fds sent alongside, in order: {"seccompFd"}.
    std::vector<std::string> fds{"seccompFd"};
    int pid = 0;           // the container process the fds belong to
    std::string metadata;  // linux.seccomp.listenerMetadata, omitted when empty
    State state;           // id, status, pid, bundle, annotations
};

// Compact JSON, e.g.
// {"ociVersion":"1.2.0","fds":["seccompFd"],"pid":42,"metadata":"m",
//  "state":{"ociVersion":"1.2.0","id":"c","status":"creating","pid":42,
//  "bundle":"/b","annotations":{...}}}
// pid is omitted from "state" when 0 and annotations when empty, like runc.
std::string container_process_state_to_json(const ContainerProcessState& process_state);

}  // namespace tether::spec
