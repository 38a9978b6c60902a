// process.capabilities and process.user: the credentials the container's
// process ends up with. Planning (names -> bit masks) is pure and tested as
// data; applying follows runc's finalizeNamespace order so that a non-root
// user keeps exactly the listed capabilities:
//   drop bounding set -> PR_SET_KEEPCAPS -> setgroups/setresgid/setresuid
//   -> clear keepcaps -> capset(effective, permitted, inheritable) -> ambient.
#pragma once

#include <cstdint>
#include <string>

#include "runtime/security/warnings.hpp"
#include "spec/config.hpp"

namespace tether::security {

// One bit per capability number (bit 12 == CAP_NET_ADMIN), the same layout as
// the CapEff/CapPrm/... lines of /proc/<pid>/status.
struct CapabilityPlan {
    uint64_t bounding = 0;
    uint64_t effective = 0;
    uint64_t permitted = 0;
    uint64_t inheritable = 0;
    uint64_t ambient = 0;
    int last_cap = 0;  // highest capability the running kernel knows
};

// Highest capability number of the running kernel
// (/proc/sys/kernel/cap_last_cap).
int kernel_last_cap();

// Capability number for "CAP_NET_ADMIN", or -1 if it is no Linux capability.
int capability_from_name(const std::string& name);

// Translates the five name lists. A name that is no capability at all throws
// tether::Error naming it and its set; a real capability above last_cap is
// skipped with a warning (an old kernel; runc does the same). Ambient entries
// that are not both permitted and inheritable cannot be raised: they are
// skipped with a warning, as runc and crun do. An effective capability that is
// not permitted is refused (the kernel would fail capset with EPERM).
CapabilityPlan plan_capabilities(const spec::Capabilities& caps, Warnings& warnings);
CapabilityPlan plan_capabilities(const spec::Capabilities& caps, int last_cap,
                                 Warnings& warnings);

// Drops every capability not in plan.bounding from the bounding set. Needs
// CAP_SETPCAP, so it runs before the user switch.
void apply_bounding_set(const CapabilityPlan& plan);

// setgroups (when allowed: not in a user namespace whose setgroups is "deny"),
// setresgid, setresuid, then umask (process.user.umask, default 0022 like
// runc). Throws naming the syscall and id.
void switch_user(const spec::User& user, bool setgroups_allowed);

// Sets effective/permitted/inheritable with one capset and raises the ambient
// set (after clearing it).
void apply_capability_sets(const CapabilityPlan& plan);

// The whole sequence in runc's order (see top of file).
void finalize_credentials(const CapabilityPlan& plan, const spec::User& user,
                          bool setgroups_allowed);

}  // namespace tether::security
