// tether exec [--process FILE] [--detach] [--pid-file FILE] [--tty]
//             [--console-socket SOCK] [--cwd DIR] [--env K=V]... [--user UID[:GID]]
//             [--additional-gids GID]... [--cap CAP]... [--no-new-privs]
//             [--preserve-fds N] [--process-label L] [--apparmor P] ID [COMMAND [ARG...]]
// Everything after ID is the command, flags included (`exec ID sh -c ...`).
#include "runtime/cli/cli.hpp"
#include "runtime/core/error.hpp"
#include "runtime/lifecycle/exec.hpp"

namespace tether::cli {

void add_exec(CLI::App& app, const GlobalOptions& global, Action& action) {
    auto options = std::make_shared<ExecOptions>();
    CLI::App* cmd = app.add_subcommand("exec", "run a new process in a running container");
    ExecProcessFlags& flags = options->flags;
    cmd->add_option("-p,--process", options->process_file, "process.json of the new process (flags are then ignored)");
    cmd->add_flag("-d,--detach", options->detach, "return once the process runs");
    cmd->add_option("--pid-file", options->pid_file, "write the process's pid here (decimal, no newline)");
    cmd->add_flag("-t,--tty", flags.tty, "allocate a pseudo-terminal");
    cmd->add_option("--console-socket", options->console_socket, "unix socket that receives the pty master");
    cmd->add_option("--cwd", flags.cwd, "working directory inside the container");
    cmd->add_option("-e,--env", flags.env, "set an environment variable (KEY=VALUE)");
    cmd->add_option("-u,--user", flags.user, "UID[:GID] to run as");
    cmd->add_option("-g,--additional-gids", flags.additional_gids, "additional group ids");
    cmd->add_option("-c,--cap", flags.caps, "add a capability");
    cmd->add_flag("--no-new-privs", flags.no_new_privs, "set no_new_privs");
    cmd->add_option("--preserve-fds", options->preserve_fds, "pass this many fds after stdio")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--process-label", flags.process_label, "SELinux label of the process");
    cmd->add_option("--apparmor", flags.apparmor, "AppArmor profile of the process");
    cmd->add_option("id", options->id, "container id")->required();
    // The first word after ID starts the command; nothing after it is ours.
    cmd->prefix_command();
    cmd->callback([&global, &action, options, cmd] {
        options->flags.args = cmd->remaining();
        action = [&global, options] {
            if (options->process_file.empty() && options->flags.args.empty())
                throw Error("exec: give a command after the container id, or --process FILE");
            options->default_policy = global.default_policy;
            options->admin_config = global.admin_config;
            return exec_in_container(global.store(), *options);
        };
    });
}

}  // namespace tether::cli
