#include "runtime/security/seccomp_listener.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include "runtime/core/error.hpp"
#include "runtime/core/fd_passing.hpp"
#include "runtime/core/unique_fd.hpp"
#include "runtime/core/unix_address.hpp"

namespace tether::security {

void send_seccomp_listener(const std::string& listener_path, int listener_fd,
                           const std::string& process_state_json) {
    if (listener_path.empty()) throw Error("linux.seccomp.listenerPath: empty");
    UnixAddress address(listener_path);  // any depth

    UniqueFd sock(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock) throw_errno("socket(AF_UNIX) for " + listener_path);
    if (retry_eintr([&] { return connect(sock.get(), address.get(), address.size()); }) != 0)
        throw_errno("connect to seccomp listener " + listener_path);

    // The runtime-spec asks for the state and the fd in one message, so the
    // agent knows which container the fd belongs to.
    ssize_t sent = send_with_fd(sock.get(), process_state_json, listener_fd);
    if (sent < 0) throw_errno("sendmsg to seccomp listener " + listener_path);
    // A stream socket may take a large state in several pieces; the fd went
    // with the first one.
    size_t done = static_cast<size_t>(sent);
    while (done < process_state_json.size()) {
        ssize_t n = retry_eintr([&] {
            return send(sock.get(), process_state_json.data() + done,
                        process_state_json.size() - done, MSG_NOSIGNAL);
        });
        if (n < 0) throw_errno("send to seccomp listener " + listener_path);
        done += static_cast<size_t>(n);
    }
}

}  // namespace tether::security
