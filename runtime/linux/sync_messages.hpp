// The payloads of the sync channel's messages (sync_channel.hpp), one struct
// each, with one encode and one decode. Both ends are the same binary (the
// init and exec's child are clones of tether, never a re-exec), so a decode
// refuses anything its encode would not write: a malformed message means a
// bug or a process that is not ours, and either way the verb must fail.
//
// Messages without a payload (hello, hooks_needed, listener_taken,
// console_taken, ready) and `error` (the message text as it is) need no
// struct.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/core/unique_fd.hpp"
#include "runtime/linux/sync_channel.hpp"

namespace tether::os {

// go, parent -> child: the child is in the container's cgroup (and, for the
// init, its id maps are written). The init runs createContainer and
// startContainer hooks itself: it gets their state document here. exec's
// child runs no hooks and gets "".
struct GoMessage {
    static constexpr SyncType type = SyncType::go;
    std::string hook_state;  // the OCI state JSON on those hooks' stdin

    std::string encode() const;
    static GoMessage decode(const std::string& payload);
    bool operator==(const GoMessage&) const = default;
};

// hooks_done, parent -> init: the prestart and createRuntime hooks ran. For a
// supervised sandbox, what tether-netd told the parent. Encoded as lines:
//   kernel_enforced        the cgroup socket programs are attached
//   proxy_port=N           the egress proxy's port (Landlock must allow it)
//   env=KEY=VALUE          set in the process environment (HTTP_PROXY ...)
struct HooksDoneMessage {
    static constexpr SyncType type = SyncType::hooks_done;
    bool kernel_enforced = false;
    std::optional<uint16_t> proxy_port;
    std::vector<std::string> env;  // KEY=VALUE, each replacing KEY

    std::string encode() const;
    static HooksDoneMessage decode(const std::string& payload);
    bool operator==(const HooksDoneMessage&) const = default;
};

// Whose seccomp listener it is: the sandbox's notify filter (goes to
// tether-netd's supervisor) or the config's SCMP_ACT_NOTIFY profile (goes to
// linux.seccomp.listenerPath).
enum class ListenerKind { netd, config };

// listener_fd, child -> parent: "<kind>:<n>", the NUMBER of the child's
// listener fd. Only the number travels: the filter just loaded may trap
// sendmsg, so no fd is passed; the parent takes a duplicate with
// pidfd_getfd (take_fd) and answers listener_taken.
struct ListenerFdMessage {
    static constexpr SyncType type = SyncType::listener_fd;
    ListenerKind kind = ListenerKind::netd;
    int fd = -1;

    std::string encode() const;
    static ListenerFdMessage decode(const std::string& payload);
    bool operator==(const ListenerFdMessage&) const = default;
};

// console_fd, child -> parent: "<n>", the number of the pty master (opened
// in the container's devpts), taken the same way; answered console_taken.
struct ConsoleFdMessage {
    static constexpr SyncType type = SyncType::console_fd;
    int fd = -1;

    std::string encode() const;
    static ConsoleFdMessage decode(const std::string& payload);
    bool operator==(const ConsoleFdMessage&) const = default;
};

template <class Message>
void send_message(SyncChannel& channel, const Message& message) {
    channel.send(Message::type, message.encode());
}

// Receives the next message, which must be a Message (an `error` is thrown).
template <class Message>
Message expect_message(SyncChannel& channel) {
    return Message::decode(channel.expect(Message::type).payload);
}

// A duplicate of fd `number` of the process behind pidfd (pidfd_getfd): the
// parent's half of listener_fd and console_fd.
UniqueFd take_fd(int pidfd, int number, const std::string& what);

}  // namespace tether::os
