// process.terminal: the pseudo-terminal of a container process.
//
// Who does what (runc's split, with every sendmsg in the runtime):
//   in the container (init after pivot_root, or the exec child after setns)
//     open_container_pty     opens /dev/ptmx of the CONTAINER's devpts, so
//                            the slave is /dev/pts/N inside the container
//     bind_console           binds that slave at /dev/console (init only)
//     make_controlling_tty   setsid + TIOCSCTTY + the slave as fds 0, 1, 2
//     then it writes only the master's fd NUMBER on its sync channel: the
//     sandbox's seccomp filter may trap sendmsg in the container later, and
//     the console socket's path is only meaningful in the runtime's mount
//     namespace anyway.
//   in the runtime
//     take_fd                pidfd_getfd of that number (sync_messages.hpp)
//     send_console_master    to --console-socket: one message, the 9 bytes
//                            "/dev/ptmx" plus the fd by SCM_RIGHTS (what
//                            conmon and containerd's shim expect)
//     relay_terminal         without a console socket (`run`/`exec` in the
//                            foreground): the pty relayed to our own stdio
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "runtime/core/unique_fd.hpp"
#include "runtime/linux/sync_channel.hpp"
#include "spec/config.hpp"

namespace tether::os {

struct Pty {
    UniqueFd master;
    UniqueFd slave;
    std::string slave_path;  // "/dev/pts/N" as the container sees it
};

// Opens /dev/ptmx in the current root (the container's, after pivot_root or
// setns) and its slave; applies consoleSize when given.
Pty open_container_pty(const std::optional<spec::ConsoleSize>& size);

// Bind-mounts the slave at /dev/console, resolved inside the current root.
void bind_console(const Pty& pty);

// Makes the slave our controlling terminal and our stdin/stdout/stderr.
void make_controlling_tty(int slave);

// The whole container side, for the init (bind_dev_console) and exec: opens
// the pty, hands the master's number to the parent on the channel, waits
// until the parent holds a duplicate, then makes the slave our terminal.
void set_up_terminal_in_container(SyncChannel& channel, const std::optional<spec::ConsoleSize>& size,
                                  bool bind_dev_console);

// Connects to the unix socket at socket_path and sends the master.
void send_console_master(const std::string& socket_path, int master);

// A console socket of our own, for `run` with a terminal and no
// --console-socket: a listening socket in a private temporary directory
// (removed on destruction) that create sends the master to.
class ConsoleReceiver {
public:
    ConsoleReceiver();
    ~ConsoleReceiver();
    ConsoleReceiver(const ConsoleReceiver&) = delete;
    ConsoleReceiver& operator=(const ConsoleReceiver&) = delete;
    const std::string& path() const { return socket_path_; }
    // The master sent by send_console_master (already queued by then).
    UniqueFd receive();

private:
    std::string dir_;
    std::string socket_path_;
    UniqueFd listener_;
};

// Relays between our stdin/stdout and the pty master until the process
// behind pidfd exits; puts our own terminal (if stdin is one) in raw mode and
// restores it, forwards SIGWINCH as a resize and other signals to the
// process. Returns the exit code (128+signal when killed).
int relay_terminal(int master, pid_t pid, int pidfd);

}  // namespace tether::os
