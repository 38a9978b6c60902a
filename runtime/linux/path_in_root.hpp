// Resolving paths inside the container's rootfs, never outside it.
//
// Every mount destination, device node, masked path and the cwd is resolved
// with openat2(RESOLVE_IN_ROOT): a symlink in the rootfs (even one the container
// swaps between our check and our use, CVE-2019-19921 / CVE-2021-30465) is
// resolved as if the rootfs were "/", so it cannot point us at the host. The
// fd we get is then the mount target itself (/proc/self/fd/N), so there is no
// second lookup by path that could be raced.
#pragma once

#include <string>

#include "runtime/core/unique_fd.hpp"

namespace tether::os {

// Opens `path` (absolute or relative, taken as inside root) with `flags`
// (O_PATH etc.); resolution can never leave root_fd. Throws on failure.
UniqueFd open_in_root(int root_fd, const std::string& path, int flags, bool no_symlinks = false);
// Like open_in_root but returns an invalid fd with errno set instead of throwing.
UniqueFd try_open_in_root(int root_fd, const std::string& path, int flags, bool no_symlinks = false);

enum class NodeKind { directory, file };

// Creates every missing component of `path` inside root (mode 0755 for
// directories; an empty regular file for the last one when kind == file) and
// returns an O_PATH fd of the result.
UniqueFd make_path_in_root(int root_fd, const std::string& path, NodeKind kind);

// `name`, one component right below dir_fd, opened with `flags` without
// following a symlink (ELOOP) or leaving dir_fd ("..": EXDEV). Invalid fd
// with errno set on failure.
UniqueFd open_child(int dir_fd, const std::string& name, int flags);

// "/proc/self/fd/N": the magic link that names exactly the resolved object.
std::string fd_path(int fd);

}  // namespace tether::os
