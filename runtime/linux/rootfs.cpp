#include "runtime/linux/rootfs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "runtime/core/error.hpp"
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

std::string source_path(const spec::Mount& mount, const RootfsContext& context) {
    if (mount.source.empty() || mount.source[0] == '/') return mount.source;
    return context.bundle + "/" + mount.source;
}

struct HostCgroupMount {
    std::string mount_point;  // /sys/fs/cgroup/memory
    std::string fs_type;      // cgroup | cgroup2
};

std::vector<HostCgroupMount> host_cgroup_mounts() {
    std::vector<HostCgroupMount> mounts;
    std::ifstream mountinfo("/proc/self/mountinfo");
    std::string line;
    while (std::getline(mountinfo, line)) {
        size_t dash = line.find(" - ");
        if (dash == std::string::npos) continue;
        std::istringstream head(line.substr(0, dash)), tail(line.substr(dash + 3));
        std::string id, parent, devno, root, mount_point, fs_type;
        head >> id >> parent >> devno >> root >> mount_point;
        tail >> fs_type;
        if ((fs_type == "cgroup" || fs_type == "cgroup2") && mount_point.rfind("/sys/fs/cgroup/", 0) == 0)
            mounts.push_back({mount_point, fs_type});
    }
    return mounts;
}

bool host_is_unified() {
    struct statvfs st;
    std::ifstream mountinfo("/proc/self/mountinfo");
    std::string line;
    while (std::getline(mountinfo, line))
        if (line.find(" /sys/fs/cgroup ") != std::string::npos && line.find(" - cgroup2 ") != std::string::npos)
            return true;
    (void)st;
    return false;
}

// `type: cgroup` on a v1 or hybrid host without a cgroup namespace: a tmpfs
// with each hierarchy's own cgroup of the container bound into it, as runc does.
void mount_cgroup_v1(int root_fd, const spec::Mount& mount, const MountFlags& flags, const RootfsContext& context) {
    UniqueFd dest = make_path_in_root(root_fd, mount.destination, NodeKind::directory);
    do_mount("tmpfs", fd_path(dest.get()), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755",
             "mount tmpfs on " + mount.destination);
    for (const auto& host : host_cgroup_mounts()) {
        std::string name = host.mount_point.substr(std::string("/sys/fs/cgroup/").size());
        if (name.find('/') != std::string::npos) continue;
        std::string source = host.mount_point + context.cgroup_path;
        struct stat st;
        if (context.cgroup_path.empty() || ::stat(source.c_str(), &st) != 0) continue;
        std::string inner = mount.destination + "/" + name;
        UniqueFd target = make_path_in_root(root_fd, inner, NodeKind::directory);
        std::string target_path = fd_path(target.get());
        do_mount(source, target_path, nullptr, MS_BIND | MS_REC, "", "bind " + source + " on " + inner);
        UniqueFd mounted = open_in_root(root_fd, inner, O_PATH);
        remount_bind(fd_path(mounted.get()), (flags.flags & ~MS_REMOUNT) | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                     flags.clear);
        // cpu,cpuacct is reached as cpu and cpuacct too.
        if (name.find(',') != std::string::npos) {
            UniqueFd dir = open_in_root(root_fd, mount.destination, O_PATH | O_DIRECTORY);
            std::stringstream parts(name);
            std::string part;
            while (std::getline(parts, part, ',')) ::symlinkat(name.c_str(), dir.get(), part.c_str());
        }
    }
    if (flags.flags & MS_RDONLY) {
        UniqueFd top = open_in_root(root_fd, mount.destination, O_PATH);
        remount_bind(fd_path(top.get()), MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0);
    }
}

void refuse_symlink_destination(int root_fd, const spec::Mount& mount) {
    UniqueFd probe = try_open_in_root(root_fd, mount.destination, O_PATH, true);
    if (!probe && errno == ELOOP)
        // A container that makes /proc a symlink to somewhere else could have
        // procfs mounted over a host-visible path (CVE-2019-19921).
        throw Error("mount " + mount.type + " on " + mount.destination +
                    ": the destination is a symlink inside the rootfs; refusing");
}

void mount_one(int root_fd, const spec::Mount& mount, const RootfsContext& context) {
    MountFlags flags = parse_mount_options(mount.options);
    bool bind = flags.bind || mount.type == "bind";
    std::string what = "mount " + (mount.source.empty() ? mount.type : mount.source) + " on " + mount.destination;

    if (mount.type == "cgroup" || mount.type == "cgroup2") {
        if (!context.own_cgroup_namespace && !host_is_unified()) return mount_cgroup_v1(root_fd, mount, flags, context);
        UniqueFd dest = make_path_in_root(root_fd, mount.destination, NodeKind::directory);
        int rc = ::mount("cgroup2", fd_path(dest.get()).c_str(), "cgroup2", flags.flags & ~MS_REMOUNT, nullptr);
        if (rc != 0 && (errno == EPERM || errno == EBUSY)) {
            // Without a cgroup namespace of its own the container gets its own subtree bound.
            std::string source = "/sys/fs/cgroup" + context.cgroup_path;
            do_mount(source, fd_path(dest.get()), nullptr, MS_BIND | MS_REC, "", what);
            UniqueFd top = open_in_root(root_fd, mount.destination, O_PATH);
            remount_bind(fd_path(top.get()), flags.flags & ~MS_REMOUNT, flags.clear);
        } else if (rc != 0) {
            throw_errno(what);
        }
        return;
    }

    if (mount.type == "proc" || mount.type == "sysfs") refuse_symlink_destination(root_fd, mount);

    if (mount.type == "sysfs" && context.new_user_namespace && !context.own_network_namespace) {
        // sysfs needs a network namespace owned by our user namespace; bind the host's instead.
        bind = true;
        flags.recursive_bind = true;
    }

    if (bind) {
        std::string source = mount.type == "sysfs" && !flags.bind ? "/sys" : source_path(mount, context);
        struct stat st;
        if (::stat(source.c_str(), &st) != 0) throw_errno(what + ": source");
        NodeKind kind = S_ISDIR(st.st_mode) ? NodeKind::directory : NodeKind::file;
        UniqueFd dest = make_path_in_root(root_fd, mount.destination, kind);
        do_mount(source, fd_path(dest.get()), nullptr, MS_BIND | (flags.recursive_bind ? MS_REC : 0), "", what);
        unsigned long extra = flags.flags & ~MS_REMOUNT;
        if (extra) {
            UniqueFd top = open_in_root(root_fd, mount.destination, O_PATH);
            remount_bind(fd_path(top.get()), extra, flags.clear);
        }
    } else {
        UniqueFd dest = make_path_in_root(root_fd, mount.destination, NodeKind::directory);
        if (mount.type == "proc" || mount.type == "sysfs") {
            // Mount on exactly the object we checked: reopened without
            // following any symlink, so a swap after the check fails (ELOOP).
            dest = open_in_root(root_fd, mount.destination, O_PATH | O_DIRECTORY, true);
        }
        std::string data = flags.data;
        do_mount(mount.source.empty() ? mount.type : mount.source, fd_path(dest.get()), mount.type.c_str(),
                 flags.flags & ~MS_REMOUNT, data, what);
    }
    if (flags.propagation) {
        UniqueFd top = open_in_root(root_fd, mount.destination, O_PATH);
        do_mount("", fd_path(top.get()), nullptr, flags.propagation, "", "set propagation of " + mount.destination);
    }
}

bool mounts_dev_from_host(const spec::Config& config) {
    for (const auto& mount : config.mounts) {
        if (mount.destination != "/dev") continue;
        MountFlags flags = parse_mount_options(mount.options);
        if (flags.bind || mount.type == "bind") return true;
    }
    return false;
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

}  // namespace

UniqueFd prepare_rootfs(const spec::Config& config, const RootfsContext& context) {
    // Nothing we mount may propagate back to the host: start from a slave (or
    // the config's) copy of the host's mounts.
    // A shared root is made shared only after pivot_root (finish_rootfs):
    // pivot_root refuses a shared parent.
    unsigned long propagation =
        parse_rootfs_propagation(config.linux_ ? config.linux_->rootfs_propagation : std::string());
    if (propagation & MS_SHARED) propagation = MS_SLAVE | MS_REC;
    do_mount("", "/", nullptr, propagation, "", "set the propagation of /");

    UniqueFd root = bind_rootfs(context);

    for (const auto& mount : config.mounts) mount_one(root.get(), mount, context);

    if (!mounts_dev_from_host(config)) {
        make_path_in_root(root.get(), "/dev", NodeKind::directory);
        std::vector<spec::Device> devices = default_devices();
        if (config.linux_)
            devices.insert(devices.end(), config.linux_->devices.begin(), config.linux_->devices.end());
        create_devices(root.get(), devices, context.new_user_namespace);
        create_dev_symlinks(root.get());
    }
    if (!context.console_path.empty()) {
        UniqueFd console = make_path_in_root(root.get(), "/dev/console", NodeKind::file);
        do_mount(context.console_path, fd_path(console.get()), nullptr, MS_BIND, "", "bind the console");
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

void finish_rootfs(const spec::Config& config) {
    UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw_errno("open /");
    if (config.linux_) {
        for (const auto& path : config.linux_->masked_paths) {
            UniqueFd target = try_open_in_root(root.get(), path, O_PATH);
            if (!target) {
                if (errno == ENOENT) continue;
                throw_errno("mask " + path);
            }
            struct stat st;
            if (::fstat(target.get(), &st) != 0) throw_errno("stat " + path);
            if (S_ISDIR(st.st_mode))
                do_mount("tmpfs", fd_path(target.get()), "tmpfs", MS_RDONLY, "", "mask " + path);
            else
                do_mount("/dev/null", fd_path(target.get()), nullptr, MS_BIND, "", "mask " + path);
        }
        for (const auto& path : config.linux_->readonly_paths) {
            UniqueFd target = try_open_in_root(root.get(), path, O_PATH);
            if (!target) {
                if (errno == ENOENT) continue;
                throw_errno("make " + path + " read-only");
            }
            do_mount(fd_path(target.get()), fd_path(target.get()), nullptr, MS_BIND | MS_REC, "",
                     "make " + path + " read-only");
            UniqueFd top = open_in_root(root.get(), path, O_PATH);
            remount_bind(fd_path(top.get()), MS_RDONLY, 0);
        }
        if (!config.linux_->rootfs_propagation.empty())
            do_mount("", "/", nullptr, parse_rootfs_propagation(config.linux_->rootfs_propagation), "",
                     "set rootfs propagation");
    }
    if (config.root && config.root->readonly) remount_bind("/", MS_RDONLY, 0);
}

}  // namespace tether::os
