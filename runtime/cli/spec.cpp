// tether spec [--bundle DIR] [--rootless]: writes a default config.json.
#include <fcntl.h>
#include <unistd.h>

#include "runtime/cli/cli.hpp"
#include "runtime/core/error.hpp"
#include "runtime/core/fs.hpp"
#include "spec/default_config.hpp"

namespace tether::cli {

void add_spec(CLI::App& app, const GlobalOptions& global, Action& action) {
    struct Args {
        std::string bundle = ".";
        bool rootless = false;
    };
    auto args = std::make_shared<Args>();
    CLI::App* cmd = app.add_subcommand("spec", "write a default config.json");
    cmd->add_option("-b,--bundle", args->bundle, "directory to write config.json into");
    cmd->add_flag("--rootless", args->rootless, "a config for a rootless container");
    cmd->callback([&action, args] {
        action = [args] {
            std::string path = args->bundle + "/config.json";
            if (fs::exists(path)) throw Error("File " + path + " exists. Remove it first");
            UniqueFd dir(::open(args->bundle.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
            if (!dir) throw_errno("bundle " + args->bundle);
            fs::write_file_atomic_at(dir.get(), "config.json", spec::default_config_json(args->rootless), 0644);
            return 0;
        };
    });
    (void)global;
}

}  // namespace tether::cli
