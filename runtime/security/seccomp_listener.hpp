// linux.seccomp.listenerPath: handing the notify listener fd to the agent
// that answers the notifications, as the runtime-spec describes. Called by the
// runtime (parent), which took the fd from the init with pidfd_getfd: the init
// cannot sendmsg once its own filter is loaded.
#pragma once

#include <string>

namespace tether::security {

// Connects to the unix stream socket at listener_path and sends
// process_state_json (spec::container_process_state_to_json) with
// listener_fd attached as SCM_RIGHTS in the same sendmsg. Throws
// tether::Error naming the path and syscall.
void send_seccomp_listener(const std::string& listener_path, int listener_fd,
                           const std::string& process_state_json);

}  // namespace tether::security
