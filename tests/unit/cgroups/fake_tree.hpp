// A temporary directory that stands in for /sys/fs/cgroup, so the managers
// can be exercised without root and every write can be read back.
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>

#include "runtime/cgroups/layout.hpp"
#include "tests/unit/scratch_dir.hpp"

namespace tether::cgroups::testing {

class FakeTree {
public:
    const std::string& base() const { return base_; }

    // A v1 layout with one mount per controller under <base>/v1/<controller>.
    CgroupRoot v1_root(std::initializer_list<const char*> controllers) const {
        CgroupRoot root;
        for (const char* controller : controllers) {
            const std::string mount = base_ + "/v1/" + controller;
            std::filesystem::create_directories(mount);
            root.v1_mounts[controller] = mount;
            root.own_cgroups[controller] = "/";
        }
        return root;
    }
    CgroupRoot v2_root() const {
        CgroupRoot root;
        root.unified_mount = base_ + "/unified";
        std::filesystem::create_directories(root.unified_mount);
        root.own_cgroups[""] = "/";
        return root;
    }

    // Creates empty knob files (as the kernel would offer them).
    static void touch(const std::string& dir, std::initializer_list<const char*> files) {
        std::filesystem::create_directories(dir);
        for (const char* file : files) std::ofstream(dir + "/" + file, std::ios::app);
    }
    static void put(const std::string& dir, const char* file, const std::string& content) {
        std::filesystem::create_directories(dir);
        std::ofstream(dir + "/" + file, std::ios::trunc) << content;
    }
    // Everything written to dir/file since it was created.
    static std::string read(const std::string& dir, const char* file) {
        std::ifstream in(dir + "/" + file);
        std::stringstream content;
        content << in.rdbuf();
        return content.str();
    }

private:
    test_support::ScratchDir scratch_{"cgroups-test"};
    const std::string base_ = scratch_.path();
};

}  // namespace tether::cgroups::testing
