// Device nodes in the container's /dev: the defaults every runtime creates
// (null, zero, full, random, urandom, tty), the config's linux.devices, and the
// /dev symlinks (fd, stdin, stdout, stderr, ptmx).
#pragma once

#include <vector>

#include "spec/config.hpp"

namespace tether::os {

// The devices runc creates whatever the config says (podman lists none).
std::vector<spec::Device> default_devices();

// Creates the nodes inside the rootfs. In a new user namespace mknod is not
// permitted, so each node is an empty file with the host's node bind-mounted on it.
void create_devices(int root_fd, const std::vector<spec::Device>& devices, bool bind_from_host);
void create_dev_symlinks(int root_fd);

}  // namespace tether::os
