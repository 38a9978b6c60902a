// tether-netd: the per-container network daemon.
//
//   tether-netd [--runtime tether] [--state-dir DIR] [--default-policy FILE]
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
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "hooks/common/decision_log.hpp"
#include "hooks/daemon/netd_daemon.hpp"
#include "hooks/protocol.hpp"
#include "spec/duration.hpp"

namespace {

namespace protocol = tether::hooks::protocol;

int usage() {
    std::cerr << "usage: tether-netd [--runtime tether] [--state-dir DIR] [--default-policy FILE] [--admin-config FILE]\n"
                 "                   [--proxy-request-head-timeout DURATION] [--proxy-idle-timeout DURATION]   (state JSON on stdin)\n"
                 "       tether-netd decisions [--denials] [--last N] FILE\n";
    return 2;
}

int print_decisions(const std::vector<std::string>& args) {
    bool denials = false;
    size_t last = 50;
    std::string path;
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--denials") denials = true;
        else if (args[i] == "--last" && i + 1 < args.size()) last = std::stoul(args[++i]);
        else if (path.empty()) path = args[i];
        else return usage();
    }
    if (path.empty()) return usage();
    std::ifstream in(path);
    if (!in) {
        std::cerr << "tether-netd: cannot read " << path << "\n";
        return 1;
    }
    std::cout << tether::hooks::format_decision_table(tether::hooks::read_decisions(in, last, denials));
    return 0;
}

std::chrono::milliseconds proxy_timeout(const std::string& flag, const std::string& value) {
    return tether::spec::parse_duration(value, flag, protocol::kMaxProxyTimeout);
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    try {
        if (!args.empty() && args[0] == "decisions") return print_decisions({args.begin() + 1, args.end()});
        tether::hooks::HookOptions options;
        for (size_t i = 0; i < args.size(); ++i) {
            if (args[i] == "--state-dir" && i + 1 < args.size()) options.state_dir = args[++i];
            else if (args[i] == "--default-policy" && i + 1 < args.size()) options.default_policy_path = args[++i];
            else if (args[i] == "--admin-config" && i + 1 < args.size()) options.admin_config_path = args[++i];
            else if (args[i] == "--runtime" && i + 1 < args.size()) options.runtime = args[++i];
            else if (args[i] == protocol::kProxyRequestHeadTimeoutFlag && i + 1 < args.size()) {
                options.proxy_timeouts.request_head = proxy_timeout(args[i], args[i + 1]);
                ++i;
            } else if (args[i] == protocol::kProxyIdleTimeoutFlag && i + 1 < args.size()) {
                options.proxy_timeouts.idle = proxy_timeout(args[i], args[i + 1]);
                ++i;
            } else {
                return usage();
            }
        }
        return tether::hooks::run_prestart_hook(options, std::cin);
    } catch (const std::exception& e) {
        std::cerr << "tether-netd: " << e.what() << "\n";
        return 1;
    }
}
