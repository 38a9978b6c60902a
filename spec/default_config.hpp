// The config.json `tether spec` writes: the same document as `runc spec`
// (and `runc spec --rootless`), so bundles made for one work with the other.
#pragma once

#include <cstdint>
#include <string>

namespace tether::spec {

// rootless: no network namespace and no devices cgroup rules, a user
// namespace mapping host_uid/host_gid to root, /sys bind-mounted (a sysfs
// mount needs a network namespace of our own), devpts without gid=5 (no such
// group is mapped). Tab-indented, keys in runc's order, no trailing newline.
std::string default_config_json(bool rootless, uint32_t host_uid, uint32_t host_gid);

// As above with the caller's effective uid/gid (what runc maps).
std::string default_config_json(bool rootless);

}  // namespace tether::spec
