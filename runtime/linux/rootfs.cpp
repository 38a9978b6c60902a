#include "runtime/linux/rootfs.hpp"

#include <dirent.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <sstream>

#include "runtime/cgroups/layout.hpp"
#include "runtime/cgroups/manager.hpp"
#include "runtime/core/error.hpp"
#include "runtime/core/fs.hpp"
#include "runtime/linux/devices.hpp"
#include "runtime/linux/mount_options.hpp"
#include "runtime/linux/path_in_root.hpp"

namespace tether::os {
namespace {

void do_mount(const std::string& source, const std::string& target, const char* type, unsigned long flags,
              const std::string& data, const std::string& what) {
    if (::mount(source.empty() ? nullptr : source.c_str(), target.c_str(), type, flags,
                data.empty() ? nullptr : data.c_str()) != 0)
        throw_errno(what);
}

// Flags the kernel locks on a mount we bind from a less privileged place
// (nosuid, nodev, noexec, ...): a remount must repeat them or it fails with EPERM.
unsigned long locked_flags(const std::string& path) {
    struct statvfs st;
    if (::statvfs(path.c_str(), &st) != 0) return 0;
    unsigned long flags = 0;
    if (st.f_flag & ST_NOSUID) flags |= MS_NOSUID;
    if (st.f_flag & ST_NODEV) flags |= MS_NODEV;
    if (st.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
    if (st.f_flag & ST_NOATIME) flags |= MS_NOATIME;
    if (st.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
    if (st.f_flag & ST_RELATIME) flags |= MS_RELATIME;
    return flags;
}

void remount_bind(const std::string& target, unsigned long flags, unsigned long cleared) {
    unsigned long keep = locked_flags(target) & ~cleared;
    do_mount("", target, nullptr, MS_REMOUNT | MS_BIND | flags | keep, "", "remount " + target);
}

// `type: cgroup` on a v1 or hybrid host without a cgroup namespace: a tmpfs
// with each hierarchy's own cgroup of the container bound into it, as runc does.
void mount_cgroup_v1(int root_fd, const spec::Mount& mount, const MountFlags& flags, const RootfsContext& context) {
    UniqueFd dest = make_path_in_root(root_fd, mount.destination, NodeKind::directory);
    do_mount("tmpfs", fd_path(dest.get()), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755",
             "mount tmpfs on " + mount.destination);
    // The tmpfs's root: every hierarchy's directory is made right in it.
    UniqueFd top = open_in_root(root_fd, mount.destination, O_PATH | O_DIRECTORY);
    // The saved path names each hierarchy's cgroup ("memory=/x/id;cpu=/id;
    // ..." when they differ): the runtime's own cgroups are not at the same
    // place in every hierarchy.
    cgroups::HierarchyPaths paths;
    if (!context.cgroup_path.empty()) paths = cgroups::saved_hierarchy_paths(context.cgroup_path);
    std::vector<std::string> bound;
    // create read them already (its cgroup manager's); else mountinfo.
    const std::vector<std::string> host_mounts =
        context.host_v1_mounts ? *context.host_v1_mounts
                               : cgroups::distinct_mount_points(
                                     cgroups::parse_cgroup_mounts(fs::read_file("/proc/self/mountinfo")).v1_mounts);
    const std::string base = "/sys/fs/cgroup/";
    for (const auto& host_mount : host_mounts) {
        if (host_mount.rfind(base, 0) != 0) continue;
        std::string name = host_mount.substr(base.size());
        if (name.empty() || name.find('/') != std::string::npos) continue;
        const std::string path = cgroups::path_in_mounted_hierarchy(paths, name);
        std::string source = host_mount + path;
        struct stat st;
        if (path.empty() || ::stat(source.c_str(), &st) != 0) continue;
        std::string inner = mount.destination + "/" + name;
        // In the tmpfs we have just mounted: nothing of the container's there
        // to resolve (make_path_in_root's seven lookups per hierarchy were
        // most of a plain run's path lookups).
        if (::mkdirat(top.get(), name.c_str(), 0755) != 0 && errno != EEXIST)
            throw_errno("mkdir " + inner + " inside the rootfs");
        UniqueFd target = open_child(top.get(), name, O_PATH | O_DIRECTORY);
        if (!target) throw_errno("open " + inner + " inside the rootfs");
        do_mount(source, fd_path(target.get()), nullptr, MS_BIND | MS_REC, "", "bind " + source + " on " + inner);
        bound.push_back(inner);
        // cpu,cpuacct is reached as cpu and cpuacct too.
        if (name.find(',') != std::string::npos) {
            std::stringstream parts(name);
            std::string part;
            while (std::getline(parts, part, ',')) ::symlinkat(name.c_str(), top.get(), part.c_str());
        }
    }
    // The mount's flags on the tmpfs and every bind below it at once
    // (mount_setattr, 5.12): a remount per hierarchy was two thirds of the
    // mount's system calls. Only flags are added: a bind keeps what the
    // host's mount locks.
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                    ((flags.flags & MS_RDONLY) ? MOUNT_ATTR_RDONLY : 0);
    if (::syscall(SYS_mount_setattr, top.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) == 0) return;
    if (errno != ENOSYS) throw_errno("mount_setattr on " + mount.destination);
    for (const auto& inner : bound) {
        UniqueFd mounted = open_in_root(root_fd, inner, O_PATH);
        remount_bind(fd_path(mounted.get()), (flags.flags & ~MS_REMOUNT) | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                     flags.clear);
    }
    if (flags.flags & MS_RDONLY) remount_bind(fd_path(top.get()), MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0);
}

// A destination that must be a real directory (MountStep::refuse_symlink):
// opened without following any symlink, so a symlink there, or one swapped
// in after the check, fails with ELOOP instead of being mounted over.
UniqueFd open_real_directory(int root_fd, const std::string& path, const std::string& what) {
    UniqueFd dir = try_open_in_root(root_fd, path, O_PATH | O_DIRECTORY, true);
    if (!dir && errno == ENOENT) {
        make_path_in_root(root_fd, path, NodeKind::directory);
        dir = try_open_in_root(root_fd, path, O_PATH | O_DIRECTORY, true);
    }
    if (!dir && errno == ELOOP)
        throw Error(what + ": " + path + " is a symlink inside the rootfs; refusing");
    if (!dir) throw_errno(what + ": open " + path + " inside the rootfs");
    return dir;
}

// A bind source the runtime opened in `create`, with its own privileges
// (open_tree, see bind_sources.hpp), attached where the destination is.
void attach_tree(int root_fd, int tree, int dest, const MountStep& step, const std::string& what) {
    if (::syscall(SYS_move_mount, tree, "", dest, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
        throw_errno(what + ": move_mount");
    // The tree was cloned in the runtime's mount namespace, a peer of the
    // source when that is shared: made a slave, as a bind made in our
    // (slave) copy of the host's mounts would be, so that nothing mounted
    // in the container propagates back to the host.
    UniqueFd top = open_in_root(root_fd, step.destination, O_PATH);
    do_mount("", fd_path(top.get()), nullptr, MS_SLAVE | MS_REC, "", what + ": make it a slave");
}

void apply_bind(int root_fd, const MountStep& step, const RootfsContext& context, const std::string& what) {
    int tree = -1;
    if (context.bind_sources && step.index < context.bind_sources->size()) tree = (*context.bind_sources)[step.index];
    struct stat st;
    if (tree >= 0 ? ::fstat(tree, &st) != 0 : ::stat(step.source.c_str(), &st) != 0) throw_errno(what + ": source");
    NodeKind kind = S_ISDIR(st.st_mode) ? NodeKind::directory : NodeKind::file;
    UniqueFd dest = step.refuse_symlink && kind == NodeKind::directory
                        ? open_real_directory(root_fd, step.destination, what)
                        : make_path_in_root(root_fd, step.destination, kind);
    if (tree >= 0) {
        attach_tree(root_fd, tree, dest.get(), step, what);
    } else {
        do_mount(step.source, fd_path(dest.get()), nullptr, MS_BIND | (step.recursive ? MS_REC : 0), "", what);
    }
    if (step.flags) {
        UniqueFd top = open_in_root(root_fd, step.destination, O_PATH);
        remount_bind(fd_path(top.get()), step.flags, step.clear);
    }
}

void apply_cgroup2(int root_fd, const MountStep& step, const RootfsContext& context, const std::string& what) {
    UniqueFd dest = make_path_in_root(root_fd, step.destination, NodeKind::directory);
    int rc = ::mount("cgroup2", fd_path(dest.get()).c_str(), "cgroup2", step.flags, nullptr);
    if (rc != 0 && (errno == EPERM || errno == EBUSY)) {
        // Without a cgroup namespace of its own the container gets its own subtree bound.
        std::string source = "/sys/fs/cgroup" + context.cgroup_path;
        do_mount(source, fd_path(dest.get()), nullptr, MS_BIND | MS_REC, "", what);
        UniqueFd top = open_in_root(root_fd, step.destination, O_PATH);
        remount_bind(fd_path(top.get()), step.flags, step.clear);
    } else if (rc != 0) {
        throw_errno(what);
    }
}

void apply_step(int root_fd, const MountStep& step, const RootfsContext& context) {
    std::string what = "mounts[" + std::to_string(step.index) + "]: mount " +
                       (step.source.empty() ? step.type : step.source) + " on " + step.destination;
    if (context.before_mount_needing_go && (step.action == MountAction::cgroup_v1 || step.type == "sysfs"))
        context.before_mount_needing_go();
    switch (step.action) {
        case MountAction::cgroup_v1: {
            spec::Mount mount;
            mount.destination = step.destination;
            MountFlags flags;
            flags.flags = step.flags;
            flags.clear = step.clear;
            return mount_cgroup_v1(root_fd, mount, flags, context);
        }
        case MountAction::cgroup2:
            return apply_cgroup2(root_fd, step, context, what);
        case MountAction::bind:
        case MountAction::sysfs_from_host:
            if (step.refuse_symlink) open_real_directory(root_fd, step.destination, what);
            apply_bind(root_fd, step, context, what);
            break;
        case MountAction::filesystem: {
            UniqueFd dest = step.refuse_symlink ? open_real_directory(root_fd, step.destination, what)
                                                : make_path_in_root(root_fd, step.destination, NodeKind::directory);
            do_mount(step.source, fd_path(dest.get()), step.type.c_str(), step.flags, step.data, what);
            break;
        }
    }
    if (step.propagation) {
        UniqueFd top = open_in_root(root_fd, step.destination, O_PATH);
        do_mount("", fd_path(top.get()), nullptr, step.propagation, "", "set propagation of " + step.destination);
    }
}

// The rootfs bound on itself: pivot_root needs the new root to be a mount
// point of its own. With rootfs_fd (create found the rootfs for us) nothing
// is resolved by path: the mapped root of a user namespace may not be allowed
// to search the directories above the rootfs.
UniqueFd bind_rootfs(const RootfsContext& context) {
    std::string what = "bind the rootfs " + context.rootfs;
    if (context.rootfs_fd < 0) {
        do_mount(context.rootfs, context.rootfs, nullptr, MS_BIND | MS_REC, "", what);
        UniqueFd root(::open(context.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!root) throw_errno("open rootfs " + context.rootfs);
        return root;
    }
    // open_tree + move_mount is mount(MS_BIND | MS_REC) on fds, and the
    // tree's fd is then the new mount's root (an fd of the directory below
    // would stay on the mount underneath).
    UniqueFd tree(static_cast<int>(::syscall(SYS_open_tree, context.rootfs_fd, "",
                                             OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH)));
    if (!tree) throw_errno(what + ": open_tree");
    if (::syscall(SYS_move_mount, tree.get(), "", context.rootfs_fd, "",
                  MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
        throw_errno(what + ": move_mount");
    return tree;
}

int pivot_root(const char* new_root, const char* put_old) {
    return static_cast<int>(::syscall(SYS_pivot_root, new_root, put_old));
}

// CVE-2025-31133 (runc): masks were bind mounts of "/dev/null" looked up by
// path in the container, where /dev can be the rootfs's own folder and
// `null` a symlink to any file: the mask then was that file, writable through
// the masked path. Here the mask source is opened once without following
// any symlink, must be the character device 1:3, and is mounted through its
// fd: no second lookup.
UniqueFd open_verified_dev_null(int root_fd) {
    UniqueFd null = try_open_in_root(root_fd, "/dev/null", O_PATH, true);
    if (!null && errno == ELOOP)
        throw Error("linux.maskedPaths: /dev/null in the container is reached through a symlink; refusing to mask "
                    "with it");
    if (!null) throw_errno("linux.maskedPaths: open /dev/null in the container");
    struct stat st;
    if (::fstat(null.get(), &st) != 0) throw_errno("linux.maskedPaths: fstat /dev/null");
    if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 || minor(st.st_rdev) != 3)
        throw Error("linux.maskedPaths: /dev/null in the container is not the character device 1:3; refusing to "
                    "mask with it");
    return null;
}

void mask_paths(int root_fd, const std::vector<std::string>& paths) {
    UniqueFd null;
    for (const auto& path : paths) {
        UniqueFd target = try_open_in_root(root_fd, path, O_PATH);
        if (!target) {
            if (errno == ENOENT) continue;
            throw_errno("linux.maskedPaths: mask " + path);
        }
        struct stat st;
        if (::fstat(target.get(), &st) != 0) throw_errno("stat " + path);
        if (S_ISDIR(st.st_mode)) {
            do_mount("tmpfs", fd_path(target.get()), "tmpfs", MS_RDONLY, "", "linux.maskedPaths: mask " + path);
            continue;
        }
        if (!null) null = open_verified_dev_null(root_fd);
        do_mount(fd_path(null.get()), fd_path(target.get()), nullptr, MS_BIND, "", "linux.maskedPaths: mask " + path);
    }
}

void make_paths_readonly(int root_fd, const std::vector<std::string>& paths) {
    for (const auto& path : paths) {
        UniqueFd target = try_open_in_root(root_fd, path, O_PATH);
        if (!target) {
            if (errno == ENOENT) continue;
            throw_errno("linux.readonlyPaths: make " + path + " read-only");
        }
        do_mount(fd_path(target.get()), fd_path(target.get()), nullptr, MS_BIND | MS_REC, "",
                 "linux.readonlyPaths: make " + path + " read-only");
        UniqueFd top = open_in_root(root_fd, path, O_PATH);
        remount_bind(fd_path(top.get()), MS_RDONLY, 0);
    }
}

}  // namespace

bool host_cgroup_is_unified() {
    // statfs, not a walk of /proc/self/mountinfo: one system call on every
    // create (the kernel renders every mount of the table for a read).
    struct statfs fs {};
    return ::statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

UniqueFd prepare_rootfs(const spec::Config& config, const MountPlan& plan, const RootfsContext& context) {
    // Nothing we mount may propagate back to the host (mount_plan.hpp).
    for (unsigned long propagation : plan.host_propagation)
        do_mount("", "/", nullptr, propagation, "", "set the propagation of /");

    UniqueFd root = bind_rootfs(context);

    for (const auto& step : plan.mounts) apply_step(root.get(), step, context);

    if (plan.create_devices) {
        // /dev must be a real directory of the rootfs: a symlink to a host
        // folder would get our device nodes and symlinks (CVE-2026-41579).
        open_real_directory(root.get(), "/dev", "create /dev");
        std::vector<spec::Device> devices = default_devices();
        if (config.linux_)
            devices.insert(devices.end(), config.linux_->devices.begin(), config.linux_->devices.end());
        create_devices(root.get(), devices, plan.bind_devices);
        create_dev_symlinks(root.get());
    }
    return root;
}

void enter_rootfs(const RootfsContext& context, int bound_rootfs, bool no_pivot) {
    if (::fchdir(bound_rootfs) != 0) throw_errno("chdir " + context.rootfs);
    if (no_pivot) {
        do_mount(".", "/", nullptr, MS_MOVE, "", "move the rootfs to /");
        if (::chroot(".") != 0) throw_errno("chroot");
    } else {
        // pivot_root(".", "."): the old root ends up stacked on the new one,
        // then detached; no directory for it is needed inside the rootfs.
        UniqueFd old_root(::open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
        if (!old_root) throw_errno("open /");
        if (pivot_root(".", ".") != 0) throw_errno("pivot_root " + context.rootfs);
        if (::fchdir(old_root.get()) != 0) throw_errno("fchdir old root");
        do_mount("", ".", nullptr, MS_SLAVE | MS_REC, "", "make the old root a slave");
        if (::umount2(".", MNT_DETACH) != 0) throw_errno("unmount the old root");
    }
    if (::chdir("/") != 0) throw_errno("chdir /");
}

void enter_rootfs_without_mount_namespace(const RootfsContext& context) {
    // The runtime's mount namespace is shared: no mount, no pivot_root (it
    // would move the host's root); a chroot, as runc and crun do.
    int dir = context.rootfs_fd;
    UniqueFd opened;
    if (dir < 0) {
        opened.reset(::open(context.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!opened) throw_errno("open the rootfs " + context.rootfs);
        dir = opened.get();
    }
    if (::fchdir(dir) != 0) throw_errno("chdir " + context.rootfs);
    if (::chroot(".") != 0) throw_errno("chroot " + context.rootfs);
    if (::chdir("/") != 0) throw_errno("chdir /");
}

void finish_rootfs(const MountPlan& plan) {
    UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw_errno("open /");
    mask_paths(root.get(), plan.masked_paths);
    make_paths_readonly(root.get(), plan.readonly_paths);
    if (plan.root_propagation)
        do_mount("", "/", nullptr, plan.root_propagation, "", "linux.rootfsPropagation: set the propagation of /");
    if (plan.readonly_root) remount_bind("/", MS_RDONLY, 0);
}

}  // namespace tether::os
