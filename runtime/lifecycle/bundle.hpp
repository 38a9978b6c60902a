// Loading a bundle: config.json read (size-limited), parsed and validated
// once, the rootfs path resolved and checked. After this the runtime works on
// spec::Config only.
#pragma once

#include <cstddef>
#include <string>

#include "spec/config.hpp"

namespace tether {

// A config.json larger than this is hostile input, not a config.
inline constexpr size_t kMaxConfigSize = 4 * 1024 * 1024;

struct Bundle {
    std::string path;         // absolute bundle directory
    std::string rootfs;       // absolute rootfs directory
    std::string config_text;  // the bytes parsed into config (kept by create: created_config.hpp)
    spec::Config config;
};

// Errors name the file or field: "config.json: ...", "root.path: ...".
Bundle load_bundle(const std::string& bundle_dir);

}  // namespace tether
