// Launching a container process: the pieces `create`'s init
// (container_init.cpp) and `exec`'s child (exec.cpp) share, so that a fix
// made for one reaches the other.
//
// Both are clones of the tether process (clone3, fork semantics: no re-exec
// of /proc/self/exe, so there is no runtime binary for the container to
// overwrite, CVE-2019-5736), talk to their parent only over the sync channel
// (sync_messages.hpp), go through ProcessSetup's phases in the order
// docs/architecture.md ("The privileged order") gives, and end in
// exec_process. What differs is in their own files: the init builds the
// namespaces and the rootfs and waits for `start`; exec's child joins the
// init's namespaces.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

namespace tether::launch {

// ------------------------------------------------------------ the parent

// clone3 with CLONE_PIDFD and the given CLONE_NEW* flags; returns 0 in the
// child and its pid in the parent, whose *pidfd then holds the child's pidfd
// (the child's copy stays -1). `what` names the child in the error.
pid_t clone_child(unsigned long flags, int* pidfd, const char* what);

// clone_child, born in the cgroup2 directory cgroup_fd (CLONE_INTO_CGROUP;
// cgroups/self_join.hpp says why). A kernel before 5.7 or a
// cgroup that refuses the flag (one with controllers enabled below it, a
// threaded one) gets a plain clone instead, so *born_in_cgroup tells the
// caller whether it must still write cgroup.procs, where such a cgroup gives
// its real error. cgroup_fd < 0: a plain clone.
pid_t clone_child_into_cgroup(unsigned long flags, int* pidfd, const char* what, int cgroup_fd,
                              bool* born_in_cgroup);

// --pid-file: decimal, no newline (containerd parses it with strconv.Atoi),
// written atomically (a reader never sees it half written).
void write_pid_file(const std::string& path, pid_t pid);

// ------------------------------------------------------------ the child

// Everything from 3 + preserve_fds on is marked close-on-exec (no runtime fd
// reaches the container: containerd's ttrpc socket is our fd 3, and a
// directory fd is a way out of the rootfs, CVE-2024-21626); the preserved
// ones are made inheritable, except `ours` (the channel and the like), which
// the process must never get.
void mark_fds_for_exec(int preserve_fds, const std::vector<int>& ours);

// After setns/clone into a new user namespace we are its overflow ids until
// we say otherwise: become its root, so that the setup that follows (mounts,
// the terminal, ProcessSetup) runs as the mapped root.
void become_root_in_user_namespace();

// What process.cwd may do when the directory does not exist. runc creates it
// for the init (prepareRootfs: MkdirAll, the image may lack the WORKDIR) and
// refuses it for exec (setns_init: a plain chdir), and images and clients
// rely on both: podman's WORKDIR of a fresh image, and `exec --cwd /typo`
// failing rather than leaving a directory behind in a running container.
enum class MissingCwd { create, refuse };

// chdir to process.cwd, resolved inside the current root (openat2
// RESOLVE_IN_ROOT): a symlink or ".." in it cannot lead to the host.
void enter_cwd(const std::string& cwd, MissingCwd missing);

// env: sets entry ("KEY=VALUE"), replacing any KEY already there.
void set_env(std::vector<std::string>& env, const std::string& entry);

// The home directory of uid in an /etc/passwd ("name:pw:uid:gid:gecos:home:
// shell"), "/" when there is no such line (runc's default).
std::string home_from_passwd(std::istream& passwd, uint32_t uid);

// HOME from the container's /etc/passwd when env has none (runc does this
// after the credential switch, with the container's root as "/").
void add_home(std::vector<std::string>& env, uint32_t uid);

// Default dispositions and an empty mask: tether ignores SIGPIPE (main.cpp)
// and blocks signals while it relays them; an ignored or blocked signal
// survives execve and must not become the container's.
void reset_signals();

// execve. Only returns by throwing (exec failed).
[[noreturn]] void exec_process(const std::string& path, const std::vector<std::string>& args,
                               const std::vector<std::string>& env);

}  // namespace tether::launch
