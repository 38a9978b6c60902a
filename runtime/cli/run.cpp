// tether run [--bundle DIR] [--pid-file FILE] [--detach] [--keep] ... ID:
// create + start, then (without --detach) wait for the process, return its
// exit code and delete the container.
#include <unistd.h>

#include "runtime/cli/cli.hpp"
#include <optional>

#include "runtime/core/log.hpp"
#include "runtime/core/unique_fd.hpp"
#include "runtime/lifecycle/bundle.hpp"
#include "runtime/lifecycle/create.hpp"
#include "runtime/lifecycle/operations.hpp"
#include "runtime/lifecycle/wait.hpp"
#include "runtime/linux/console.hpp"

namespace tether::cli {

void add_run(CLI::App& app, const GlobalOptions& global, Action& action) {
    struct Args {
        CreateOptions create;
        bool detach = false;
        bool keep = false;
    };
    auto args = std::make_shared<Args>();
    CLI::App* cmd = app.add_subcommand("run", "create and start a container, and wait for it");
    cmd->add_option("-b,--bundle", args->create.bundle, "path to the bundle directory");
    cmd->add_option("--pid-file", args->create.pid_file, "write the init's pid here");
    cmd->add_option("--console-socket", args->create.console_socket, "unix socket that receives the pty master");
    cmd->add_option("--preserve-fds", args->create.preserve_fds, "pass this many fds after stdio")
        ->check(CLI::Range(0, 1 << 20));  // fd numbers end at NR_OPEN; more overflowed 3 + N in the init
    cmd->add_flag("--no-pivot", args->create.no_pivot, "use MS_MOVE and chroot instead of pivot_root");
    cmd->add_flag("--no-new-keyring", args->create.no_new_keyring, "keep the caller's session keyring");
    cmd->add_flag("-d,--detach", args->detach, "return once the container runs");
    cmd->add_flag("--keep", args->keep, "do not delete the container after it exits");
    cmd->add_option("id", args->create.id, "container id")->required();
    cmd->callback([&global, &action, args] {
        action = [&global, args] {
            StateStore store = global.store();
            args->create.detach_from_init = args->detach;
            args->create.default_policy = global.default_policy;
            args->create.admin_config = global.admin_config;
            args->create.proxy_timeouts = {global.proxy_request_head_timeout, global.proxy_idle_timeout};
            args->create.systemd_cgroup = global.systemd_cgroup;
            // A terminal and nobody to give it to: we take it ourselves and
            // relay it to our stdio (runc's `run -t`).
            std::optional<os::ConsoleReceiver> console;
            Bundle bundle = load_bundle(args->create.bundle);
            if (!args->detach && args->create.console_socket.empty() && bundle.config.process->terminal) {
                console.emplace();
                args->create.console_socket = console->path();
            }
            // start follows at once: create keeps the state directory locked
            // and hands back what start and delete would read back from it.
            args->create.start_at_once = true;
            CreatedContainer created = create_container(store, args->create, std::move(bundle));
            UniqueFd pidfd(created.init_pidfd);
            UniqueFd master;
            try {
                if (console) master = console->receive();
                start_created_container(std::move(*created.dir), created.state, created.poststart,
                                        std::move(created.start_channels));
                created.dir.reset();
                log::debug_step("run: started");
            } catch (...) {
                created.dir.reset();  // the lock: delete takes it again
                delete_container(store, args->create.id, true);
                throw;
            }
            if (args->detach) return 0;
            int code = master ? os::relay_terminal(master.get(), created.init_pid, pidfd.get())
                              : wait_forwarding_signals(created.init_pid, pidfd.get());
            log::debug_step("run: the container exited");
            if (!args->keep) {
                KnownContainer known;
                known.init_pid = created.init_pid;
                known.init_start_time = created.state.init_start_time;
                known.poststop = &created.poststop;
                // Rootless, a hierarchy it could not join was dropped from
                // the manager, not removed: delete reopens it from the state.
                known.cgroup = created.state.rootless ? nullptr : created.cgroup.get();
                delete_container(store, args->create.id, true, &known);
            }
            log::debug_step("run: deleted");
            return code;
        };
    });
}

}  // namespace tether::cli
