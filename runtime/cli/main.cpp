// tether: an OCI runtime with runc's command line.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "runtime/cgroups/manager.hpp"
#include "runtime/cli/cli.hpp"
#include "runtime/core/error.hpp"
#include "runtime/core/log.hpp"

#include <seccomp.h>

namespace {

void print_version() {
    const struct scmp_version* v = seccomp_version();
    std::printf("tether version %s\nspec: 1.2.0\nlibseccomp: %u.%u.%u\n", TETHER_VERSION, v->major, v->minor,
                v->micro);
}

// Rootless podman never passes --root and runs us as uid 0 of its user
// namespace, where /run/tether belongs to nobody: like runc
// ($XDG_RUNTIME_DIR/runc) the state then lives under the user's runtime dir.
// Real root keeps /run/tether whatever its environment (podman's cleanup
// process has XDG_RUNTIME_DIR set to "").
std::string default_root_for_caller() {
    const char* xdg = std::getenv("XDG_RUNTIME_DIR");
    bool rootless = ::geteuid() != 0 || tether::cgroups::running_in_user_namespace();
    if (rootless && xdg && *xdg) return std::string(xdg) + "/tether";
    return tether::default_state_root;
}

using AddVerb = void (*)(CLI::App&, const tether::cli::GlobalOptions&, tether::cli::Action&);
struct Verb {
    const char* name;
    const char* alias;  // or nullptr
    AddVerb add;
};
constexpr Verb kVerbs[] = {
    {"create", nullptr, tether::cli::add_create}, {"start", nullptr, tether::cli::add_start},
    {"state", nullptr, tether::cli::add_state},   {"kill", nullptr, tether::cli::add_kill},
    {"delete", nullptr, tether::cli::add_delete}, {"run", nullptr, tether::cli::add_run},
    {"list", "ls", tether::cli::add_list},        {"spec", nullptr, tether::cli::add_spec},
    {"features", nullptr, tether::cli::add_features}, {"exec", nullptr, tether::cli::add_exec},
    {"ps", nullptr, tether::cli::add_ps},         {"pause", nullptr, tether::cli::add_pause},
    {"resume", nullptr, tether::cli::add_resume}, {"update", nullptr, tether::cli::add_update},
    {"events", nullptr, tether::cli::add_events},
};

// The verb argv names: its first word that is neither a global option nor a
// global option's value. nullptr for none, an unknown option before it, or a
// word that is no verb: then every verb is registered and CLI11 answers (help,
// --version, its error) as it always did. Why not always all: CLI11 builds
// every option's matchers, and the fifteen verbs were 1.28 M of the 1.54 M
// instructions of `tether --version` (callgrind), about 0.3 ms of every call
// podman, containerd or `run` makes.
const Verb* verb_named_in(const CLI::App& app, int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        std::string word = argv[i];
        if (word.empty() || word == "--") return nullptr;
        if (word[0] != '-') {
            for (const Verb& verb : kVerbs)
                if (word == verb.name || (verb.alias && word == verb.alias)) return &verb;
            return nullptr;
        }
        const size_t equals = word.find('=');
        const CLI::Option* option = app.get_option_no_throw(word.substr(0, equals));
        if (!option) return nullptr;
        // `--root X`: X is the option's value; `--root=X` carries it.
        if (equals == std::string::npos && option->get_items_expected_min() > 0) ++i;
    }
    return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace tether;
    // podman closes the read end of our stderr under `state`; a write there must
    // not kill us before stdout is written.
    ::signal(SIGPIPE, SIG_IGN);

    cli::GlobalOptions global;
    cli::Action action;
    CLI::App app{"tether: an OCI container runtime for sandboxing untrusted code", "tether"};
    app.require_subcommand(0, 1);
    bool version = false;
    app.add_flag("-v,--version", version, "print the version");
    app.add_option("--root", global.root, "root directory for container state")->capture_default_str();
    app.add_option("--log", global.log_path, "write the runtime's log to this file");
    app.add_option("--log-format", global.log_format, "log format: text or json")
        ->check(CLI::IsMember({"text", "json"}));
    app.add_flag("--debug", global.debug, "log debug messages");
    app.add_flag("--systemd-cgroup", global.systemd_cgroup, "cgroups as systemd scope units (cgroupsPath \"slice:prefix:name\")");
    app.add_option("--rootless", global.rootless, "ignore cgroup permission errors: true, false or auto");
    app.add_option("--criu", "path to criu (unused)");
    app.add_option("--default-policy", global.default_policy,
                   "sandbox policy file applied to every container (annotations override it)");
    app.add_option("--admin-config", global.admin_config,
                   "the administrator's file: sandbox ceiling, workload keys, log and policy directories "
                   "(default /etc/tether/admin.json when it exists)");
    // The administrator's, like --default-policy: a flag in the engine's
    // runtime entry, or the environment where the engine's entry cannot carry
    // flags (containerd's runc shim). Never the container's annotations.
    app.add_option("--proxy-request-head-timeout", global.proxy_request_head_timeout,
                   "egress proxy: time a client has to send a whole request head, e.g. 30s (default 30s)")
        ->envname("TETHER_PROXY_REQUEST_HEAD_TIMEOUT");
    app.add_option("--proxy-idle-timeout", global.proxy_idle_timeout,
                   "egress proxy: close a request or tunnel with no byte moved for this long, e.g. 10m (default 10m)")
        ->envname("TETHER_PROXY_IDLE_TIMEOUT");

    if (const Verb* verb = verb_named_in(app, argc, argv))
        verb->add(app, global, action);
    else
        for (const Verb& each : kVerbs) each.add(app, global, action);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    if (app.get_option("--root")->count() == 0) global.root = default_root_for_caller();
    if (version) {
        print_version();
        return 0;
    }
    log::configure({global.log_path, global.log_format == "json" ? log::Format::json : log::Format::text,
                    global.debug});
    if (!action) {
        std::fputs(app.help().c_str(), stdout);
        return 0;
    }
    try {
        int code = action();
        log::flush_warnings();
        return code;
    } catch (const std::exception& e) {
        log::error(e.what());
        return 1;
    }
}
