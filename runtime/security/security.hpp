// What runtime/security offers: the process security the init applies between
// pivot_root and exec, in the order the init calls it (see DESIGN.md "Order in
// the init"):
//
//   apply_rlimits, set_no_new_privileges (if asked), write_oom_score_adj,
//   apply_personality, join_session_keyring (unless --no-new-keyring),
//   validate_sysctls (in the parent, before clone) + apply_sysctls,
//   build_seccomp_filter + load_seccomp_filter (while CAP_SYS_ADMIN is held),
//   finalize_credentials (bounding set -> keepcaps -> user -> capsets -> ambient).
//
// The parent then hands a notify listener to listenerPath with
// send_seccomp_listener.
#pragma once

#include "runtime/security/capabilities.hpp"
#include "runtime/security/process_attributes.hpp"
#include "runtime/security/seccomp_filter.hpp"
#include "runtime/security/seccomp_listener.hpp"
#include "runtime/security/sysctl.hpp"
#include "runtime/security/warnings.hpp"
