// Loading a bundle: config.json read (size-limited), parsed and validated
// once, the rootfs path resolved and checked. After this the runtime works on
// spec::Config only.
#pragma once

#include <string>

#include "spec/config.hpp"

namespace tether {

struct Bundle {
    std::string path;    // absolute bundle directory
    std::string rootfs;  // absolute rootfs directory
    spec::Config config;
};

// Errors name the file or field: "config.json: ...", "root.path: ...".
Bundle load_bundle(const std::string& bundle_dir);

}  // namespace tether
