// config.json "process" (and exec's process.json): args, env, cwd, user,
// capabilities, rlimits, console, IO priority.
#include <set>
#include <string>

#include "spec/capability_names.hpp"
#include "spec/parse_parts.hpp"
#include "spec/vocabulary.hpp"

namespace tether::spec {

namespace {

User read_user(const JsonNode& node) {
    node.require_object();
    User user;
    user.uid = node.maybe_integer<uint32_t>("uid").value_or(0);
    user.gid = node.maybe_integer<uint32_t>("gid").value_or(0);
    // umask is a permission mask: at most 0777 (511); umask(2) would ignore the rest.
    user.umask = node.maybe_integer<uint32_t>("umask", 0, 0777);
    node.for_each_item("additionalGids", [&](const JsonNode& item, size_t) {
        user.additional_gids.push_back(item.as_integer<uint32_t>());
    });
    user.username = node.optional_string("username");
    return user;
}

std::vector<std::string> read_capability_set(const JsonNode& caps, std::string_view key) {
    std::vector<std::string> names;
    caps.for_each_item(key, [&](const JsonNode& item, size_t) {
        std::string name = item.as_string();
        // An unknown name is most likely a typo that would silently drop (or
        // keep) a privilege: refuse it rather than guess.
        if (!capability_number(name)) item.fail("unknown capability " + quote_for_message(name));
        names.push_back(std::move(name));
    });
    return names;
}

Capabilities read_capabilities(const JsonNode& node) {
    node.require_object();
    Capabilities caps;
    caps.bounding = read_capability_set(node, "bounding");
    caps.effective = read_capability_set(node, "effective");
    caps.inheritable = read_capability_set(node, "inheritable");
    caps.permitted = read_capability_set(node, "permitted");
    caps.ambient = read_capability_set(node, "ambient");
    return caps;
}

std::vector<Rlimit> read_rlimits(const JsonNode& process) {
    std::vector<Rlimit> rlimits;
    std::set<std::string> seen;
    process.for_each_item("rlimits", [&](const JsonNode& item, size_t) {
        item.require_object();
        Rlimit limit;
        auto type = item.member("type");
        limit.type = type.as_string();
        if (!rlimit_resource(limit.type)) type.fail("unknown rlimit " + quote_for_message(limit.type));
        limit.soft = item.required_integer<uint64_t>("soft");
        limit.hard = item.required_integer<uint64_t>("hard");
        if (limit.soft > limit.hard)
            item.fail("soft limit " + std::to_string(limit.soft) + " of " + limit.type + " is above its hard limit " +
                      std::to_string(limit.hard));
        // setrlimit twice would silently keep only the last one.
        if (!seen.insert(limit.type).second) item.fail("duplicate rlimit " + limit.type);
        rlimits.push_back(std::move(limit));
    });
    return rlimits;
}

void read_io_priority(const JsonNode& node, Process& process) {
    node.require_object();
    static const NameList classes = {"IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"};
    process.io_priority_class = read_one_of(node.member("class"), classes);
    // Priority levels 0 (highest) .. 7 (lowest), as ioprio_set(2) takes them.
    process.io_priority = node.maybe_integer<int>("priority", 0, 7).value_or(0);
}

Scheduler read_scheduler(const JsonNode& node) {
    node.require_object();
    static const NameList policies = {"SCHED_OTHER", "SCHED_FIFO", "SCHED_RR",      "SCHED_BATCH",
                                      "SCHED_ISO",   "SCHED_IDLE", "SCHED_DEADLINE"};
    static const NameList flags = {"SCHED_FLAG_RESET_ON_FORK",  "SCHED_FLAG_RECLAIM",        "SCHED_FLAG_DL_OVERRUN",
                                   "SCHED_FLAG_KEEP_POLICY",    "SCHED_FLAG_KEEP_PARAMS",    "SCHED_FLAG_UTIL_CLAMP_MIN",
                                   "SCHED_FLAG_UTIL_CLAMP_MAX"};
    Scheduler s;
    s.policy = read_one_of(node.member("policy"), policies);
    s.nice = node.maybe_integer<int32_t>("nice", -20, 19);  // sched_setattr(2) rejects the rest
    s.priority = node.maybe_integer<int32_t>("priority");
    node.for_each_item("flags", [&](const JsonNode& item, size_t) {
        std::string flag = item.as_string();
        if (!list_contains(flags, flag)) item.fail("unknown scheduler flag " + quote_for_message(flag));
        s.flags.push_back(std::move(flag));
    });
    s.runtime = node.maybe_integer<uint64_t>("runtime");
    s.deadline = node.maybe_integer<uint64_t>("deadline");
    s.period = node.maybe_integer<uint64_t>("period");
    return s;
}

}  // namespace

Process read_process(const JsonNode& node) {
    node.require_object();
    Process process;
    process.terminal = node.optional_bool("terminal", false);
    if (auto size = node.optional_member("consoleSize")) {
        size->require_object();
        process.console_size = ConsoleSize{size->required_integer<uint32_t>("height"),
                                           size->required_integer<uint32_t>("width")};
    }
    if (auto user = node.optional_member("user")) process.user = read_user(*user);

    // args: REQUIRED on Linux, and execve needs at least argv[0].
    auto args = node.optional_member("args");
    if (!args || !args->is_array() || args->array_size() == 0)
        throw ParseError(node.child_path("args") + ": expected a non-empty array of strings");
    for (size_t i = 0; i < args->array_size(); ++i) process.args.push_back(args->item(i).as_string());

    process.command_line = node.optional_string("commandLine");
    process.env = read_env(node, "env");
    if (auto cwd = node.optional_member("cwd")) process.cwd = cwd->as_absolute_path();
    if (auto caps = node.optional_member("capabilities")) process.capabilities = read_capabilities(*caps);
    process.rlimits = read_rlimits(node);
    process.no_new_privileges = node.optional_bool("noNewPrivileges", false);
    process.apparmor_profile = node.optional_string("apparmorProfile");
    // The kernel accepts -1000..1000 in /proc/<pid>/oom_score_adj.
    process.oom_score_adj = node.maybe_integer<int>("oomScoreAdj", -1000, 1000);
    process.selinux_label = node.optional_string("selinuxLabel");
    if (auto io = node.optional_member("ioPriority")) read_io_priority(*io, process);
    if (auto scheduler = node.optional_member("scheduler")) process.scheduler = read_scheduler(*scheduler);
    if (auto affinity = node.optional_member("execCPUAffinity")) {
        affinity->require_object();
        process.exec_cpu_affinity = ExecCpuAffinity{affinity->optional_string("initial"), affinity->optional_string("final")};
    }
    return process;
}

Process parse_process(std::string_view json_text) {
    return read_labelled_document(json_text, "process.json", [](const JsonNode& node) { return read_process(node); });
}

}  // namespace tether::spec
