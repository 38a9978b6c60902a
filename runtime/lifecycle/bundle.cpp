#include "runtime/lifecycle/bundle.hpp"

#include <sys/stat.h>

#include "runtime/core/error.hpp"
#include "runtime/core/fs.hpp"

namespace tether {

Bundle load_bundle(const std::string& bundle_dir) {
    Bundle bundle;
    bundle.path = fs::absolute_path(bundle_dir.empty() ? "." : bundle_dir);
    struct stat st;
    if (::stat(bundle.path.c_str(), &st) != 0) throw_errno("bundle " + bundle.path);
    if (!S_ISDIR(st.st_mode)) throw Error("bundle " + bundle.path + ": not a directory");

    std::string config_path = bundle.path + "/config.json";
    bundle.config_text = fs::read_file(config_path, kMaxConfigSize);
    try {
        bundle.config = spec::parse_config(bundle.config_text);
    } catch (const std::exception& e) {
        throw Error(config_path + ": " + e.what());
    }
    const spec::Config& config = bundle.config;
    if (!config.root || config.root->path.empty()) throw Error(config_path + ": root.path: required");
    if (!config.process) throw Error(config_path + ": process: required to create a container");
    if (!config.linux_) throw Error(config_path + ": linux: required on Linux");

    std::string root = config.root->path;
    bundle.rootfs = root[0] == '/' ? fs::absolute_path(root) : fs::absolute_path(bundle.path + "/" + root);
    if (::lstat(bundle.rootfs.c_str(), &st) != 0) throw_errno("root.path: rootfs " + bundle.rootfs);
    // A symlinked rootfs is refused: the rootfs is where every later path is
    // resolved, so it must be exactly the directory the caller named.
    if (S_ISLNK(st.st_mode)) throw Error("root.path: rootfs " + bundle.rootfs + " is a symlink; refusing");
    if (!S_ISDIR(st.st_mode)) throw Error("root.path: rootfs " + bundle.rootfs + " is not a directory");
    return bundle;
}

}  // namespace tether
