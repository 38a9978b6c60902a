#include "runtime/linux/path_in_root.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

#include "runtime/core/error.hpp"

namespace tether::os {
namespace {

std::string relative(const std::string& path) {
    size_t start = path.find_first_not_of('/');
    return start == std::string::npos ? "." : path.substr(start);
}

std::vector<std::string> components(const std::string& path) {
    std::vector<std::string> parts;
    size_t pos = 0;
    while (pos < path.size()) {
        size_t next = path.find('/', pos);
        if (next == std::string::npos) next = path.size();
        std::string part = path.substr(pos, next - pos);
        if (!part.empty() && part != ".") parts.push_back(part);
        pos = next + 1;
    }
    return parts;
}

// openat2 with `flags` (close-on-exec) and `resolve`; invalid fd with errno
// set on failure.
UniqueFd openat2_at(int dir_fd, const std::string& path, int flags, uint64_t resolve) {
    struct open_how how {};
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
    how.resolve = resolve;
    int fd = static_cast<int>(::syscall(SYS_openat2, dir_fd, path.c_str(), &how, sizeof how));
    while (fd < 0 && errno == EAGAIN)  // a rename raced the lookup: the kernel asks us to retry
        fd = static_cast<int>(::syscall(SYS_openat2, dir_fd, path.c_str(), &how, sizeof how));
    return UniqueFd(fd);
}

}  // namespace

UniqueFd try_open_in_root(int root_fd, const std::string& path, int flags, bool no_symlinks) {
    return openat2_at(root_fd, relative(path), flags,
                      RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | (no_symlinks ? RESOLVE_NO_SYMLINKS : 0));
}

UniqueFd open_in_root(int root_fd, const std::string& path, int flags, bool no_symlinks) {
    UniqueFd fd = try_open_in_root(root_fd, path, flags, no_symlinks);
    if (!fd) throw_errno("open " + path + " inside the rootfs");
    return fd;
}

UniqueFd open_child(int dir_fd, const std::string& name, int flags) {
    return openat2_at(dir_fd, name, flags, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

UniqueFd make_path_in_root(int root_fd, const std::string& path, NodeKind kind) {
    UniqueFd existing = try_open_in_root(root_fd, path, O_PATH);
    if (existing) return existing;
    if (errno != ENOENT) throw_errno("open " + path + " inside the rootfs");

    // Walk from the root, creating what is missing, one component below the
    // last (open_child): a lookup of the whole prefix from the root for
    // every component made the walk quadratic, and a mount's target is
    // made this way for every mount. A component that is a symlink (or
    // "..") is not followed there: the whole prefix is then resolved through
    // RESOLVE_IN_ROOT, so a symlink planted along the way still resolves
    // inside the rootfs. Most often only the last component is missing (a
    // mount's target in a directory of the image): the walk then starts at
    // its parent.
    std::vector<std::string> parts = components(path);
    size_t first = 0;
    std::string prefix;
    UniqueFd dir;
    if (parts.size() > 1) {
        for (size_t i = 0; i + 1 < parts.size(); ++i) prefix += "/" + parts[i];
        dir = try_open_in_root(root_fd, prefix, O_PATH | O_DIRECTORY);
        if (dir) first = parts.size() - 1;
    }
    if (!dir) {
        prefix.clear();
        dir = open_in_root(root_fd, ".", O_PATH | O_DIRECTORY);
    }
    for (size_t i = first; i < parts.size(); ++i) {
        prefix += "/" + parts[i];
        UniqueFd step = open_child(dir.get(), parts[i], O_PATH);
        if (!step && errno == ENOENT) {
            bool last = i + 1 == parts.size();
            if (last && kind == NodeKind::file) {
                int created = ::openat(dir.get(), parts[i].c_str(),
                                       O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
                if (created < 0 && errno != EEXIST) throw_errno("create " + prefix + " inside the rootfs");
                if (created >= 0) ::close(created);
            } else if (::mkdirat(dir.get(), parts[i].c_str(), 0755) != 0 && errno != EEXIST) {
                throw_errno("mkdir " + prefix + " inside the rootfs");
            }
            step = open_child(dir.get(), parts[i], O_PATH);
        }
        if (!step) step = open_in_root(root_fd, prefix, O_PATH);
        dir = std::move(step);
    }
    return dir;
}

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

}  // namespace tether::os
