#include "runtime/lifecycle/created_config.hpp"

#include "runtime/core/error.hpp"
#include "runtime/core/fs.hpp"
#include "runtime/lifecycle/bundle.hpp"

namespace tether {

void save_created_config(const ContainerDir& dir, const std::string& config_text) {
    // No temporary file and rename: nothing reads the copy before the first
    // state.json exists, and a create killed half-way through the write
    // leaves no state.json (delete --force then removes the directory).
    fs::write_new_file_at(dir.fd(), kCreatedConfigName, config_text, 0600);
}

spec::Config load_created_config(const ContainerDir& dir, const spec::StoredState& state) {
    // Containers created before the copy existed (a tether upgraded under
    // running containers) have only the bundle's.
    if (!dir.has_file(kCreatedConfigName)) return load_bundle(state.oci.bundle).config;
    std::string path = dir.path() + "/" + kCreatedConfigName;
    std::string text = fs::read_file_at(dir.fd(), kCreatedConfigName, kMaxConfigSize);
    try {
        return spec::parse_config(text);
    } catch (const std::exception& e) {
        throw Error(path + ": " + e.what());
    }
}

}  // namespace tether
