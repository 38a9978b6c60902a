// linux.seccomp -> libseccomp filter (translation only; loading is in
// seccomp_load.cpp).
#include "runtime/security/seccomp_filter.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <utility>
#include <vector>

#include "runtime/core/error.hpp"

namespace tether::security {
namespace {

// The kernel passes six syscall arguments; libseccomp indexes them 0..5.
constexpr uint32_t kSyscallArguments = 6;

scmp_compare compare_op_from_name(const std::string& op, const std::string& field) {
    static constexpr std::array<std::pair<const char*, scmp_compare>, 7> kOps{{
        {"SCMP_CMP_NE", SCMP_CMP_NE},
        {"SCMP_CMP_LT", SCMP_CMP_LT},
        {"SCMP_CMP_LE", SCMP_CMP_LE},
        {"SCMP_CMP_EQ", SCMP_CMP_EQ},
        {"SCMP_CMP_GE", SCMP_CMP_GE},
        {"SCMP_CMP_GT", SCMP_CMP_GT},
        {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
    }};
    for (const auto& [name, value] : kOps)
        if (op == name) return value;
    throw Error(field + ".op: unknown operator \"" + op + "\"");
}

uint32_t arch_token_from_name(const std::string& name, const std::string& field) {
    // "SCMP_ARCH_X86_64" -> libseccomp's own name "x86_64".
    const std::string prefix = "SCMP_ARCH_";
    if (name.rfind(prefix, 0) != 0) throw Error(field + ": unknown architecture \"" + name + "\"");
    std::string short_name = name.substr(prefix.size());
    std::transform(short_name.begin(), short_name.end(), short_name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    uint32_t token = seccomp_arch_resolve_name(short_name.c_str());
    if (token == 0)
        throw Error(field + ": architecture \"" + name + "\" is unknown to libseccomp " +
                    std::to_string(SCMP_VER_MAJOR) + "." + std::to_string(SCMP_VER_MINOR));
    return token;
}

void set_attribute(scmp_filter_ctx ctx, scmp_filter_attr attr, uint32_t value,
                   const std::string& what) {
    int rc = seccomp_attr_set(ctx, attr, value);
    if (rc != 0) throw Error("linux.seccomp: " + what, -rc);
}

void apply_flag(SeccompFilter& filter, const std::string& flag, const std::string& field) {
    if (flag == "SECCOMP_FILTER_FLAG_TSYNC")
        set_attribute(filter.get(), SCMP_FLTATR_CTL_TSYNC, 1, "flag " + flag);
    else if (flag == "SECCOMP_FILTER_FLAG_LOG")
        set_attribute(filter.get(), SCMP_FLTATR_CTL_LOG, 1, "flag " + flag);
    else if (flag == "SECCOMP_FILTER_FLAG_SPEC_ALLOW")
        set_attribute(filter.get(), SCMP_FLTATR_CTL_SSB, 1, "flag " + flag);
    else if (flag == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV")
        // No libseccomp 2.5 attribute: remembered and passed by our own load.
        filter.wait_killable_recv = true;
    else
        throw Error(field + ": unknown seccomp flag \"" + flag + "\"");
}

std::vector<scmp_arg_cmp> conditions_for(const spec::SeccompSyscall& rule,
                                         const std::string& field) {
    std::vector<scmp_arg_cmp> conditions;
    for (size_t i = 0; i < rule.args.size(); ++i) {
        const auto& arg = rule.args[i];
        std::string arg_field = field + ".args[" + std::to_string(i) + "]";
        if (arg.index >= kSyscallArguments)
            throw Error(arg_field + ".index: " + std::to_string(arg.index) +
                        " is not a syscall argument (0..5)");
        // For SCMP_CMP_MASKED_EQ value is the mask and valueTwo the datum
        // compared after masking, as in runc and the runtime-spec.
        conditions.push_back(scmp_arg_cmp{arg.index, compare_op_from_name(arg.op, arg_field),
                                          arg.value, arg.value_two});
    }
    return conditions;
}

bool has_repeated_index(const std::vector<scmp_arg_cmp>& conditions) {
    std::array<int, kSyscallArguments> count{};
    for (const auto& c : conditions)
        if (++count[c.arg] > 1) return true;
    return false;
}

void add_rule(SeccompFilter& filter, uint32_t action, int nr, const std::string& name,
              const std::vector<scmp_arg_cmp>& conditions, const std::string& field) {
    int rc = seccomp_rule_add_array(filter.get(), action, nr,
                                    static_cast<unsigned>(conditions.size()), conditions.data());
    if (rc != 0) throw Error(field + ": adding the rule for syscall \"" + name + "\"", -rc);
}

void add_syscall_rule(SeccompFilter& filter, const spec::SeccompSyscall& rule, uint32_t action,
                      const std::string& field, Warnings& warnings) {
    auto conditions = conditions_for(rule, field);
    for (const auto& name : rule.names) {
        int nr = seccomp_syscall_resolve_name(name.c_str());
        if (nr == __NR_SCMP_ERROR) {
            // runc: "unknown seccomp syscall ignored". Profiles list syscalls
            // of every architecture and kernel; the filter still has its
            // default action for them.
            warnings.push_back("seccomp: syscall \"" + name +
                               "\" is unknown to libseccomp on this architecture; rule skipped");
            continue;
        }
        if (!has_repeated_index(conditions)) {
            add_rule(filter, action, nr, name, conditions, field);
            continue;
        }
        // libseccomp cannot AND two comparisons of the same argument in one
        // rule (it rejects them with EINVAL): runc then adds one rule per
        // condition, so any one matching condition takes the action.
        for (const auto& condition : conditions) add_rule(filter, action, nr, name, {condition}, field);
    }
}

}  // namespace

SeccompFilter::SeccompFilter(SeccompFilter&& other) noexcept
    : uses_notify(other.uses_notify),
      wait_killable_recv(other.wait_killable_recv),
      ctx_(std::exchange(other.ctx_, nullptr)) {}

SeccompFilter& SeccompFilter::operator=(SeccompFilter&& other) noexcept {
    if (this != &other) {
        if (ctx_) seccomp_release(ctx_);
        ctx_ = std::exchange(other.ctx_, nullptr);
        uses_notify = other.uses_notify;
        wait_killable_recv = other.wait_killable_recv;
    }
    return *this;
}

SeccompFilter::~SeccompFilter() {
    if (ctx_) seccomp_release(ctx_);
}

bool uses_notify(const spec::Seccomp& seccomp) {
    if (seccomp.default_action == "SCMP_ACT_NOTIFY") return true;
    return std::any_of(seccomp.syscalls.begin(), seccomp.syscalls.end(),
                       [](const auto& rule) { return rule.action == "SCMP_ACT_NOTIFY"; });
}

uint32_t seccomp_action_from_name(const std::string& name, std::optional<uint32_t> errno_ret,
                                  const std::string& field) {
    if (name == "SCMP_ACT_ERRNO" || name == "SCMP_ACT_TRACE") {
        // EPERM when no errnoRet is given, like runc.
        uint32_t value = errno_ret.value_or(EPERM);
        if (value > 0xffff)
            throw Error(field + ": errnoRet " + std::to_string(value) + " does not fit in 16 bits");
        return name == "SCMP_ACT_ERRNO" ? SCMP_ACT_ERRNO(value) : SCMP_ACT_TRACE(value);
    }
    if (errno_ret)
        throw Error(field + ": errnoRet is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not " +
                    name);
    if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
    if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
    if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
    if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
    if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
    if (name == "SCMP_ACT_NOTIFY") return SCMP_ACT_NOTIFY;
    throw Error(field + ": unknown seccomp action \"" + name + "\"");
}

SeccompFilter build_seccomp_filter(const spec::Seccomp& seccomp, Warnings& warnings) {
    // A listener on every syscall would leave nobody able to answer: the
    // init itself could not even report that it loaded the filter.
    if (seccomp.default_action == "SCMP_ACT_NOTIFY")
        throw Error("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
    uint32_t default_action = seccomp_action_from_name(
        seccomp.default_action, seccomp.default_errno_ret, "linux.seccomp.defaultAction");

    SeccompFilter filter(seccomp_init(default_action));
    if (!filter.valid())
        throw Error("linux.seccomp.defaultAction: libseccomp refused \"" + seccomp.default_action +
                    "\"");
    // The spec's noNewPrivileges decides about no_new_privs, not libseccomp
    // (which would set it on load by default).
    set_attribute(filter.get(), SCMP_FLTATR_CTL_NNP, 0, "clearing the no_new_privs attribute");

    for (size_t i = 0; i < seccomp.architectures.size(); ++i) {
        std::string field = "linux.seccomp.architectures[" + std::to_string(i) + "]";
        int rc = seccomp_arch_add(filter.get(), arch_token_from_name(seccomp.architectures[i], field));
        if (rc != 0 && rc != -EEXIST)  // EEXIST: the native arch is always there
            throw Error(field + ": seccomp_arch_add " + seccomp.architectures[i], -rc);
    }
    for (size_t i = 0; i < seccomp.flags.size(); ++i)
        apply_flag(filter, seccomp.flags[i], "linux.seccomp.flags[" + std::to_string(i) + "]");

    for (size_t i = 0; i < seccomp.syscalls.size(); ++i) {
        const auto& rule = seccomp.syscalls[i];
        std::string field = "linux.seccomp.syscalls[" + std::to_string(i) + "]";
        uint32_t action = seccomp_action_from_name(rule.action, rule.errno_ret, field + ".action");
        // libseccomp refuses a rule that repeats the default action; it would
        // change nothing anyway (runc skips it too).
        if (action == default_action) continue;
        if (action == SCMP_ACT_NOTIFY) {
            // The init reports readiness with write(2) after loading; a
            // notify rule on write would block it forever (runc refuses too).
            if (std::find(rule.names.begin(), rule.names.end(), "write") != rule.names.end())
                throw Error(field + ": SCMP_ACT_NOTIFY cannot be used for the write syscall");
            filter.uses_notify = true;
        }
        add_syscall_rule(filter, rule, action, field, warnings);
    }
    return filter;
}

}  // namespace tether::security
