// The create-time conversation between `tether create` (parent) and the
// container init (child): one SOCK_SEQPACKET socketpair, one datagram per
// message. The init only ever write(2)s and read(2)s on it — never sendmsg —
// so it keeps working after the init has loaded a seccomp filter that traps
// sendmsg/sendto (the sandbox's notify filter).
#pragma once

#include <cstdint>
#include <string>

#include "runtime/core/unique_fd.hpp"

namespace tether::os {

enum class SyncType : uint32_t {
    hello = 1,        // init -> parent: I exist (the parent reads my host pid from SCM_CREDENTIALS)
    go,               // parent -> init: cgroup and id maps are in place, continue
    hooks_needed,     // init -> parent: mounts done, run prestart/createRuntime hooks now
    hooks_done,       // parent -> init: hooks ran; payload: extra env lines (KEY=VALUE\n...)
    listener_fd,      // init -> parent: payload: the number of my seccomp listener fd
    listener_taken,   // parent -> init: I hold a duplicate; you may close yours
    ready,            // init -> parent: everything is set up, I block until start
    error,            // init -> parent: payload: the error message; I exit
    console_fd,       // init/exec child -> parent: payload: the number of my pty master fd
    console_taken,    // parent -> init/exec child: I hold a duplicate; close yours
};

struct SyncMessage {
    SyncType type{};
    std::string payload;
    int sender_pid = 0;  // host pid of the sender (0 if unknown)
};

class SyncChannel {
public:
    SyncChannel() = default;
    explicit SyncChannel(UniqueFd fd) : fd_(std::move(fd)) {}

    // Creates the pair: first is the parent's end (SO_PASSCRED on), second the init's.
    static std::pair<SyncChannel, SyncChannel> make_pair();

    void send(SyncType type, const std::string& payload = "");
    // Blocks until a message arrives; throws on EOF ("init exited") or error.
    SyncMessage receive();
    // Receives and checks the type; an `error` message is rethrown as Error.
    SyncMessage expect(SyncType type);

    int fd() const { return fd_.get(); }
    void close() { fd_.reset(); }

private:
    UniqueFd fd_;
};

}  // namespace tether::os
