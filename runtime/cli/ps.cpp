// tether ps [--format table|json] ID [ps options...]: the container's
// processes. json prints the host pids as a JSON array (runc: [6907]);
// table runs the host's ps (default -ef) and keeps its header and the lines
// of the container's pids.
#include <cstdio>

#include "runtime/cli/cli.hpp"
#include "runtime/core/error.hpp"
#include "runtime/lifecycle/cgroup_verbs.hpp"

namespace tether::cli {

void add_ps(CLI::App& app, const GlobalOptions& global, Action& action) {
    auto format = std::make_shared<std::string>("table");
    CLI::App* cmd = app.add_subcommand("ps", "list the processes of a container");
    cmd->add_option("-f,--format", *format, "table or json")->check(CLI::IsMember({"table", "json"}));
    // ID and everything after it (the host ps options, "-ef" included) are
    // not ours to parse: stop at the first item that is not a known option.
    cmd->prefix_command();
    cmd->footer("usage: ps [--format table|json] ID [ps options...]");
    cmd->callback([&global, &action, cmd, format] {
        std::vector<std::string> rest = cmd->remaining();
        action = [&global, format, rest] {
            if (rest.empty()) throw Error("ps: container id is required");
            const std::string& id = rest[0];
            std::vector<std::string> ps_args(rest.begin() + 1, rest.end());
            if (!ps_args.empty() && ps_args[0] == "--") ps_args.erase(ps_args.begin());
            if (ps_args.empty()) ps_args = {"-ef"};
            std::vector<pid_t> pids = container_pids(global.store(), id);
            if (*format == "json") {
                std::printf("%s\n", pids_to_json(pids).c_str());
                return 0;
            }
            std::fputs(filter_ps_table(run_host_ps(ps_args), pids).c_str(), stdout);
            return 0;
        };
    });
}

}  // namespace tether::cli
