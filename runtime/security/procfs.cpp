#include "runtime/security/procfs.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/core/error.hpp"

namespace tether::security {
namespace {

bool is_procfs(int fd) {
    struct statfs fs;
    return ::fstatfs(fd, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
}

// A procfs instance of our own: not attached to any mount namespace, so no
// bind mount of the container can ever cover a file below it.
UniqueFd new_procfs_instance() {
    UniqueFd context(static_cast<int>(::syscall(SYS_fsopen, "proc", FSOPEN_CLOEXEC)));
    if (!context) return UniqueFd();
    // subset=pid would hide /proc/sys: the full instance is needed.
    if (::syscall(SYS_fsconfig, context.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) return UniqueFd();
    return UniqueFd(static_cast<int>(::syscall(SYS_fsmount, context.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID |
                                                                                               MOUNT_ATTR_NODEV |
                                                                                               MOUNT_ATTR_NOEXEC)));
}

}  // namespace

ProcFs::ProcFs(UniqueFd root) : root_(std::move(root)) {
    if (!root_ || !is_procfs(root_.get())) throw Error("procfs handle: not a procfs directory");
    struct stat st;
    if (::fstat(root_.get(), &st) != 0) throw_errno("procfs handle: fstat");
    dev_ = st.st_dev;
}

ProcFs ProcFs::open() {
    if (UniqueFd instance = new_procfs_instance()) {
        ProcFs procfs(std::move(instance));
        procfs.private_ = true;
        return procfs;
    }
    // EPERM where the kernel will not make a procfs for us (a user
    // namespace that shares the host's pid namespace, a /proc that is not
    // fully visible). This /proc is the one we had before any mount of the
    // container existed; RESOLVE_NO_XDEV below still refuses to follow any
    // mount made on it later.
    UniqueFd current(::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!current) throw_errno("open /proc");
    if (!is_procfs(current.get())) throw Error("/proc is not a procfs mount; refusing to write through it");
    return ProcFs(std::move(current));
}

UniqueFd ProcFs::open_for_write(const std::string& relative, const std::string& what) const {
    struct open_how how {};
    how.flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW;
    // BENEATH: never above the procfs root; NO_XDEV: never onto a mount
    // made over a procfs directory; NO_MAGICLINKS: never through
    // /proc/<pid>/root or fd/N. /proc/self is a plain symlink to "<pid>".
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS;
    int raw = -1;
    do {
        raw = static_cast<int>(::syscall(SYS_openat2, root_.get(), relative.c_str(), &how, sizeof how));
    } while (raw < 0 && errno == EAGAIN);
    UniqueFd fd(raw);
    if (!fd) throw_errno(what + ": open /proc/" + relative);
    // Checked twice, on the fd we will write to: the filesystem is procfs,
    // and the file is a regular file of our procfs instance.
    if (!is_procfs(fd.get())) throw Error(what + ": /proc/" + relative + " is not on procfs; refusing to write");
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) throw_errno(what + ": fstat /proc/" + relative);
    if (!S_ISREG(st.st_mode) || st.st_dev != dev_)
        throw Error(what + ": /proc/" + relative + " is not a file of the runtime's procfs; refusing to write");
    return fd;
}

void ProcFs::write(const std::string& relative, const std::string& value, const std::string& what) const {
    UniqueFd fd = open_for_write(relative, what);
    if (retry_eintr([&] { return ::write(fd.get(), value.data(), value.size()); }) !=
        static_cast<ssize_t>(value.size()))
        throw_errno(what + ": write \"" + value + "\" to /proc/" + relative);
}

}  // namespace tether::security
