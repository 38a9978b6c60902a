// tether-netd: the per-container network daemon.
//
//   tether-netd [--runtime tether] [--state-dir DIR] [--default-policy FILE] [--admin-config FILE]
//               [--proxy-request-head-timeout DURATION] [--proxy-idle-timeout DURATION]
//       OCI prestart hook: the container state on stdin; starts the daemon
//       and returns once it serves (hooks/daemon/netd_daemon.hpp).
//       tether passes --runtime tether; without it (podman hooks.d under
//       runc/crun) the hook refuses unless run.tether.sandbox.bestEffort=true.
//       The timeouts bound the egress proxy's clients (proxy_config.hpp);
//       DURATION is "30s", "10m", "500ms", ... They are flags, not policy
//       keys: annotations are the tenant's, and these bound the tenant.
//   tether-netd decisions [--denials] [--last N] FILE
//       prints a decision log (<state dir>/decisions.jsonl) as a table.
// A usage error exits 2, as before the flags were parsed by CLI11 (the
// runtime's own parser).
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <string>

#include "hooks/common/decision_log.hpp"
#include "hooks/daemon/netd_daemon.hpp"
#include "hooks/protocol.hpp"
#include "spec/duration.hpp"

namespace {

namespace protocol = tether::hooks::protocol;

constexpr int kUsageError = 2;

struct DecisionsOptions {
    bool denials = false;
    size_t last = 50;
    std::string path;
};

int print_decisions(const DecisionsOptions& options) {
    std::ifstream in(options.path);
    if (!in) {
        std::cerr << "tether-netd: cannot read " << options.path << "\n";
        return 1;
    }
    std::cout << tether::hooks::format_decision_table(
        tether::hooks::read_decisions(in, options.last, options.denials));
    return 0;
}

std::chrono::milliseconds proxy_timeout(const std::string& flag, const std::string& value) {
    return tether::spec::parse_duration(value, flag, protocol::kMaxProxyTimeout);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"tether-netd: the per-container network daemon (an OCI prestart hook; the state on stdin)",
                 "tether-netd"};
    tether::hooks::HookOptions options;
    std::string request_head_timeout, idle_timeout;
    app.add_option("--runtime", options.runtime, "the runtime that injected the hook (tether enforces)");
    app.add_option("--state-dir", options.state_dir, "where netd.sock, netd.pid and decisions.jsonl go");
    app.add_option("--default-policy", options.default_policy_path, "the runtime's --default-policy file");
    app.add_option("--admin-config", options.admin_config_path, "the administrator's file tether read");
    app.add_option(protocol::kProxyRequestHeadTimeoutFlag, request_head_timeout,
                   "egress proxy: time a client has to send a whole request head (e.g. 30s)");
    app.add_option(protocol::kProxyIdleTimeoutFlag, idle_timeout,
                   "egress proxy: close a request or tunnel idle for this long (e.g. 10m)");

    DecisionsOptions decisions;
    CLI::App* decisions_command = app.add_subcommand("decisions", "print a decision log as a table");
    decisions_command->add_flag("--denials", decisions.denials, "only denials");
    decisions_command->add_option("--last", decisions.last, "the last N decisions")->capture_default_str();
    decisions_command->add_option("FILE", decisions.path, "a decisions.jsonl")->required();

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return kUsageError;
    }
    try {
        if (decisions_command->parsed()) return print_decisions(decisions);
        if (!request_head_timeout.empty())
            options.proxy_timeouts.request_head =
                proxy_timeout(protocol::kProxyRequestHeadTimeoutFlag, request_head_timeout);
        if (!idle_timeout.empty())
            options.proxy_timeouts.idle = proxy_timeout(protocol::kProxyIdleTimeoutFlag, idle_timeout);
        return tether::hooks::run_prestart_hook(options, std::cin);
    } catch (const std::exception& e) {
        std::cerr << "tether-netd: " << e.what() << "\n";
        return 1;
    }
}
