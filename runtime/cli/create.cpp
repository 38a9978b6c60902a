// tether create [--bundle DIR] [--pid-file FILE] [--console-socket SOCK]
//               [--preserve-fds N] [--no-pivot] [--no-new-keyring] ID
#include "runtime/cli/cli.hpp"
#include "runtime/lifecycle/create.hpp"

namespace tether::cli {

void add_create(CLI::App& app, const GlobalOptions& global, Action& action) {
    auto options = std::make_shared<CreateOptions>();
    CLI::App* cmd = app.add_subcommand("create", "create a container (it waits for start)");
    cmd->add_option("-b,--bundle", options->bundle, "path to the bundle directory (default: current directory)");
    cmd->add_option("--pid-file", options->pid_file, "write the init's pid here (decimal, no newline)");
    cmd->add_option("--console-socket", options->console_socket, "unix socket that receives the pty master");
    cmd->add_option("--preserve-fds", options->preserve_fds, "pass this many fds after stdio to the container")
        ->check(CLI::Range(0, 1 << 20));  // fd numbers end at NR_OPEN; more overflowed 3 + N in the init
    cmd->add_flag("--no-pivot", options->no_pivot, "use MS_MOVE and chroot instead of pivot_root");
    cmd->add_flag("--no-new-keyring", options->no_new_keyring, "keep the caller's session keyring");
    cmd->add_option("id", options->id, "container id")->required();
    cmd->callback([&global, &action, options] {
        action = [&global, options] {
            options->default_policy = global.default_policy;
            options->admin_config = global.admin_config;
            options->proxy_timeouts = {global.proxy_request_head_timeout, global.proxy_idle_timeout};
            options->systemd_cgroup = global.systemd_cgroup;
            create_container(global.store(), *options);
            return 0;
        };
    });
}

}  // namespace tether::cli
