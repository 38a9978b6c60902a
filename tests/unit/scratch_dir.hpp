// A directory of one test's own under /tmp, removed with all it holds when
// the ScratchDir goes, also when the test failed or skipped half-way. Shared
// by every unit test area (tests/unit/<area>/ include it as
// "tests/unit/scratch_dir.hpp").
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace tether::test_support {

class ScratchDir {
public:
    // /tmp/tether-<name>-XXXXXX; the name says whose directory a leftover is.
    explicit ScratchDir(std::string_view name) {
        std::string pattern = "/tmp/tether-" + std::string(name) + "-XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp " + pattern + " failed");
        path_ = pattern;
    }
    ~ScratchDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;

    const std::string& path() const { return path_; }

private:
    std::string path_;
};

}  // namespace tether::test_support
