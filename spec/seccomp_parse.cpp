// linux.seccomp: default action, architectures, flags, listener, rules.
// Names are checked against the runtime-spec's lists here; whether the
// host's libseccomp knows each syscall name is decided when the filter is
// built (runtime/security), not by the parser.
#include <string>

#include "spec/parse_parts.hpp"
#include "spec/vocabulary.hpp"

namespace tether::spec {

namespace {

std::string read_action(const JsonNode& node) {
    std::string action = node.as_string();
    if (!list_contains(seccomp_action_names(), action)) node.fail("unknown seccomp action " + quote_for_message(action));
    return action;
}

SeccompArg read_arg(const JsonNode& node) {
    node.require_object();
    SeccompArg arg;
    arg.index = node.required_integer<uint32_t>("index", 0, 5);  // syscalls take at most 6 arguments
    arg.value = node.required_integer<uint64_t>("value");
    arg.value_two = node.maybe_integer<uint64_t>("valueTwo").value_or(0);
    auto op = node.member("op");
    arg.op = op.as_string();
    if (!list_contains(seccomp_operator_names(), arg.op)) op.fail("unknown seccomp operator " + quote_for_message(arg.op));
    return arg;
}

SeccompSyscall read_syscall_rule(const JsonNode& node) {
    node.require_object();
    SeccompSyscall rule;
    auto names = node.optional_member("names");
    if (!names || !names->is_array() || names->array_size() == 0)
        throw ParseError(node.child_path("names") + ": expected a non-empty array of syscall names");
    for (size_t i = 0; i < names->array_size(); ++i) rule.names.push_back(names->item(i).as_nonempty_string());
    rule.action = read_action(node.member("action"));
    rule.errno_ret = node.maybe_integer<uint32_t>("errnoRet");
    node.for_each_item("args", [&](const JsonNode& item, size_t) { rule.args.push_back(read_arg(item)); });
    return rule;
}

}  // namespace

Seccomp read_seccomp(const JsonNode& node) {
    node.require_object();
    Seccomp seccomp;
    seccomp.default_action = read_action(node.member("defaultAction"));
    seccomp.default_errno_ret = node.maybe_integer<uint32_t>("defaultErrnoRet");
    node.for_each_item("architectures", [&](const JsonNode& item, size_t) {
        std::string arch = item.as_string();
        if (!list_contains(seccomp_arch_names(), arch)) item.fail("unknown architecture " + quote_for_message(arch));
        seccomp.architectures.push_back(std::move(arch));
    });
    node.for_each_item("flags", [&](const JsonNode& item, size_t) {
        std::string flag = item.as_string();
        if (!list_contains(seccomp_flag_names(), flag)) item.fail("unknown seccomp flag " + quote_for_message(flag));
        seccomp.flags.push_back(std::move(flag));
    });
    seccomp.listener_path = node.optional_string("listenerPath");
    seccomp.listener_metadata = node.optional_string("listenerMetadata");
    node.for_each_item("syscalls", [&](const JsonNode& item, size_t) {
        seccomp.syscalls.push_back(read_syscall_rule(item));
    });
    return seccomp;
}

}  // namespace tether::spec
