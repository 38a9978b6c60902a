#include "runtime/linux/devices.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "runtime/core/error.hpp"
#include "runtime/linux/path_in_root.hpp"

namespace tether::os {

std::vector<spec::Device> default_devices() {
    auto node = [](const char* path, int64_t major, int64_t minor) {
        spec::Device d;
        d.path = path;
        d.type = 'c';
        d.major = major;
        d.minor = minor;
        d.file_mode = 0666;
        d.uid = 0;
        d.gid = 0;
        return d;
    };
    return {node("/dev/null", 1, 3),    node("/dev/zero", 1, 5), node("/dev/full", 1, 7),
            node("/dev/random", 1, 8),  node("/dev/urandom", 1, 9), node("/dev/tty", 5, 0)};
}

static std::string parent_of(const std::string& path) {
    size_t slash = path.find_last_of('/');
    return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

static std::string base_of(const std::string& path) { return path.substr(path.find_last_of('/') + 1); }

// The host node at the same path, bind-mounted: a user namespace cannot mknod.
static void bind_host_device(int root_fd, const spec::Device& device) {
    UniqueFd target = make_path_in_root(root_fd, device.path, NodeKind::file);
    if (::mount(device.path.c_str(), fd_path(target.get()).c_str(), nullptr, MS_BIND, nullptr) != 0)
        throw_errno("bind mount device " + device.path);
}

void create_devices(int root_fd, const std::vector<spec::Device>& devices, bool bind_from_host) {
    // mknod honours the umask; the config's mode is exact. With none while we
    // make the nodes, no chmod afterwards (nor the lookup it needed).
    struct UmaskZero {
        mode_t saved = ::umask(0);
        ~UmaskZero() { ::umask(saved); }
    } no_umask;
    // Consecutive devices almost always share their directory (/dev): it is
    // resolved once for them.
    std::string dir_path;
    UniqueFd dir_fd;
    for (const auto& device : devices) {
        if (bind_from_host) {
            make_path_in_root(root_fd, parent_of(device.path), NodeKind::directory);
            bind_host_device(root_fd, device);
            continue;
        }
        if (!dir_fd || parent_of(device.path) != dir_path) {
            dir_path = parent_of(device.path);
            make_path_in_root(root_fd, dir_path, NodeKind::directory);
            dir_fd = open_in_root(root_fd, dir_path, O_PATH | O_DIRECTORY);
        }
        std::string name = base_of(device.path);
        mode_t kind = device.type == 'b' ? S_IFBLK : device.type == 'p' ? S_IFIFO : S_IFCHR;
        mode_t mode = kind | (device.file_mode ? (*device.file_mode & 07777) : 0666);
        ::unlinkat(dir_fd.get(), name.c_str(), 0);  // replace what the image put there
        dev_t dev = device.type == 'p' ? 0 : makedev(device.major, device.minor);
        if (::mknodat(dir_fd.get(), name.c_str(), mode, dev) != 0) {
            // A user namespace the caller made before running us (rootless
            // podman runs the runtime as uid 0 of its own): no mknod there,
            // so bind the host's node, as runc does in a user namespace.
            if (errno == EPERM && device.type != 'p') {
                bind_host_device(root_fd, device);
                continue;
            }
            throw_errno("mknod " + device.path);
        }
        if (device.uid || device.gid)
            if (::fchownat(dir_fd.get(), name.c_str(), device.uid.value_or(0), device.gid.value_or(0),
                           AT_SYMLINK_NOFOLLOW) != 0)
                throw_errno("chown " + device.path);
    }
}

void create_dev_symlinks(int root_fd) {
    UniqueFd dev = open_in_root(root_fd, "/dev", O_PATH | O_DIRECTORY);
    const std::pair<const char*, const char*> links[] = {
        {"/proc/self/fd", "fd"},     {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
        {"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"},
    };
    for (const auto& [target, name] : links) {
        if (std::string(name) == "ptmx") ::unlinkat(dev.get(), name, 0);  // runc replaces it too
        if (::symlinkat(target, dev.get(), name) != 0 && errno != EEXIST)
            throw_errno(std::string("symlink /dev/") + name);
    }
}

}  // namespace tether::os
