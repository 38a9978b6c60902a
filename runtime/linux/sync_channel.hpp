// The conversation between the runtime (parent) and the process it cloned
// (child): `create` and the container init, or `exec` and its child. One
// SOCK_SEQPACKET socketpair, one datagram per message: a 4-byte SyncType and
// its payload, whose format is one struct each in sync_messages.hpp. The
// child only ever write(2)s and read(2)s on it — never sendmsg — so it keeps
// working after it has loaded a seccomp filter that traps sendmsg/sendto
// (the sandbox's notify filter); its fds never travel, only their numbers.
// The parent may attach fds to `go` (SCM_RIGHTS): what create made while the
// init was already at work, the network namespace (early_netns.hpp) and the
// v1 cgroups' tasks files (cgroups/self_join.hpp).
//
// The order (docs/architecture.md, "create, step by step"):
//   init:  hello → go → [hooks_needed → hooks_done] → [console_fd →
//          console_taken] → [listener_fd → listener_taken]... → ready
//   exec's child: go → [console_fd → console_taken] → [listener_fd →
//          listener_taken] → (exec closes its end: EOF)
// and `error` instead of any child message when a step fails.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/core/unique_fd.hpp"

namespace tether::os {

enum class SyncType : uint32_t {
    hello = 1,        // init -> parent: I exist (the parent reads my host pid from SCM_CREDENTIALS); no payload
    go,               // parent -> child: cgroup (and id maps) in place, continue; payload: GoMessage
    hooks_needed,     // init -> parent: mounts done, run prestart/createRuntime hooks now; no payload
    hooks_done,       // parent -> init: hooks ran; payload: HooksDoneMessage (tether-netd's answers)
    listener_fd,      // child -> parent: payload: ListenerFdMessage, "<kind>:<number of my listener fd>"
    listener_taken,   // parent -> child: I hold a duplicate; you may close yours; no payload
    ready,            // init -> parent: everything is set up, I block until start; no payload
    error,            // child -> parent: payload: the error message as text; I exit
    console_fd,       // child -> parent: payload: ConsoleFdMessage, the number of my pty master fd
    console_taken,    // parent -> child: I hold a duplicate; close yours; no payload
};

struct SyncMessage {
    SyncType type{};
    std::string payload;
    int sender_pid = 0;  // host pid of the sender (0 if unknown)
    std::vector<UniqueFd> fds;  // fds the sender attached (SCM_RIGHTS), close-on-exec
};

// The most fds one message may carry (a hybrid host's v1 hierarchies and a
// network namespace fit many times over).
inline constexpr size_t kMaxSyncFds = 64;

class SyncChannel {
public:
    SyncChannel() = default;
    explicit SyncChannel(UniqueFd fd) : fd_(std::move(fd)) {}

    // Creates the pair: first is the parent's end (SO_PASSCRED on), second the child's.
    static std::pair<SyncChannel, SyncChannel> make_pair();

    void send(SyncType type, const std::string& payload = "");
    // The parent's send with `fds` attached (sendmsg, SCM_RIGHTS; at most
    // kMaxSyncFds).
    void send_with_fds(SyncType type, const std::string& payload, const std::vector<int>& fds);
    // Blocks until a message arrives; throws on EOF (the child exited) or error.
    SyncMessage receive();
    // Receives and checks the type; an `error` message is rethrown as Error.
    SyncMessage expect(SyncType type);

    int fd() const { return fd_.get(); }
    void close() { fd_.reset(); }

private:
    UniqueFd fd_;
};

}  // namespace tether::os
