#include "runtime/lifecycle/process_setup.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <optional>

#include "runtime/core/error.hpp"
#include "runtime/core/log.hpp"
#include "runtime/lifecycle/sandbox_setup.hpp"
#include "runtime/linux/sync_messages.hpp"
#include "runtime/security/capabilities.hpp"
#include "runtime/security/process_attributes.hpp"
#include "runtime/security/seccomp_filter.hpp"
#include "runtime/security/sysctl.hpp"

namespace tether {

struct ProcessSetup::Plan {
    // nullopt: the config lists no capabilities, so the sets are left as
    // they are (runc does the same).
    std::optional<security::CapabilityPlan> capabilities;
};

void preflight_process_security(const spec::Config& config) {
    std::vector<std::string> warnings;
    if (config.process->capabilities) security::plan_capabilities(*config.process->capabilities, warnings);
    if (config.linux_ && config.linux_->seccomp) security::build_seccomp_filter(*config.linux_->seccomp, warnings);
    for (const auto& w : warnings) log::warning(w);
}

ProcessSetup::ProcessSetup(std::string container_id, const spec::Config& config, const os::NamespacePlan& namespaces,
                           bool no_new_keyring)
    : container_id_(std::move(container_id)),
      config_(config),
      process_(*config.process),
      namespaces_(namespaces),
      no_new_keyring_(no_new_keyring),
      plan_(new Plan) {
    std::vector<std::string> warnings;
    if (process_.capabilities) plan_->capabilities = security::plan_capabilities(*process_.capabilities, warnings);
    for (const auto& w : warnings) log::warning(w);
}

ProcessSetup::~ProcessSetup() { delete plan_; }

// A bug of ours, never the config's: the error says which step came when.
void ProcessSetup::enter(Phase next) {
    static constexpr const char* names[] = {"planning", "before_credentials", "apply_sandbox",
                                            "load_filters_with_privileges", "switch_credentials", "load_filters_late"};
    if (static_cast<int>(next) != static_cast<int>(phase_) + 1)
        throw Error(std::string("process setup: ") + names[static_cast<int>(next)] + " called after " +
                    names[static_cast<int>(phase_)] + " (docs/architecture.md, \"The privileged order\")");
    phase_ = next;
}

void ProcessSetup::before_credentials(const security::ProcFs* procfs) {
    enter(Phase::before_credentials);
    security::apply_rlimits(process_.rlimits);
    if (process_.oom_score_adj) {
        if (!procfs) throw Error("process.oomScoreAdj: no procfs of the runtime's own to write it through");
        security::write_oom_score_adj(*process_.oom_score_adj, *procfs);
    }
    if (config_.linux_ && config_.linux_->personality) security::apply_personality(*config_.linux_->personality);
    if (!no_new_keyring_) security::join_session_keyring(container_id_);
    // linux.sysctl is applied by the init before /proc/sys turns read-only
    // (container_init.cpp); an exec must not write it again.
    if (process_.no_new_privileges) security::set_no_new_privileges();
}

void ProcessSetup::load_config_seccomp(os::SyncChannel* channel) {
    const spec::Seccomp& profile = *config_.linux_->seccomp;
    std::vector<std::string> warnings;
    security::SeccompFilter filter = security::build_seccomp_filter(profile, warnings);
    for (const auto& w : warnings) log::warning(w);
    UniqueFd listener = security::load_seccomp_filter(filter);
    seccomp_loaded_ = true;
    if (listener && channel) {
        // The parent takes a duplicate with pidfd_getfd: we only write the
        // number (a sendmsg could be trapped by the filter we just loaded).
        os::send_message(*channel, os::ListenerFdMessage{os::ListenerKind::config, listener.get()});
        channel->expect(os::SyncType::listener_taken);
    }
}

void ProcessSetup::apply_sandbox(os::SyncChannel& channel) {
    enter(Phase::sandbox);
    if (sandbox_) apply_sandbox_in_init(*sandbox_, proxy_port_, channel, compiled_filters_);
}

void ProcessSetup::load_filters_with_privileges(os::SyncChannel& channel) {
    enter(Phase::filters_with_privileges);
    if (!config_.linux_ || !config_.linux_->seccomp) return;
    // A notify profile must hand its listener over before create returns, so
    // it is loaded now even with noNewPrivileges.
    if (!process_.no_new_privileges || security::uses_notify(*config_.linux_->seccomp)) load_config_seccomp(&channel);
}

void ProcessSetup::switch_credentials() {
    enter(Phase::credentials);
    bool setgroups_allowed = true;
    if (plan_->capabilities)
        security::finalize_credentials(*plan_->capabilities, process_.user, setgroups_allowed);
    else
        security::switch_user(process_.user, setgroups_allowed);
    ::umask(process_.user.umask ? static_cast<mode_t>(*process_.user.umask) : 022);
}

void ProcessSetup::load_filters_late() {
    enter(Phase::filters_late);
    if (!config_.linux_ || !config_.linux_->seccomp || seccomp_loaded_) return;
    load_config_seccomp(nullptr);
}

}  // namespace tether
