// Per-process attributes from config.json's process and linux objects that
// are each one syscall or one /proc write: rlimits, no_new_privs,
// oom_score_adj, personality and the session keyring.
#pragma once

#include "runtime/security/procfs.hpp"

#include <string>
#include <vector>

#include "spec/config.hpp"

namespace tether::security {

// setrlimit for each entry, in order. Throws tether::Error naming the limit
// when the type is unknown, soft > hard, or the kernel refuses (EPERM: the hard
// limit is above the runtime's own and it lacks CAP_SYS_RESOURCE).
void apply_rlimits(const std::vector<spec::Rlimit>& rlimits);

// Returns the RLIMIT_* number for "RLIMIT_NOFILE" etc., or -1 if unknown.
int rlimit_resource_from_name(const std::string& name);

// prctl(PR_SET_NO_NEW_PRIVS): after this, exec can never gain privileges
// (setuid binaries, file capabilities).
void set_no_new_privileges();

// Writes self/oom_score_adj of `procfs` (the runtime's own: procfs.hpp).
void write_oom_score_adj(int score, const ProcFs& procfs);

// personality(2): domain LINUX or LINUX32 plus flags such as
// ADDR_NO_RANDOMIZE. Throws tether::Error naming an unknown domain or flag.
void apply_personality(const spec::Personality& personality);

// Returns the personality(2) value a Personality asks for (pure; throws on
// unknown names). Exposed for tests and for `tether features`.
unsigned long personality_value(const spec::Personality& personality);

// Joins a new session keyring "_ses.<container_id>", so the container never
// sees the runtime's keys (runc does the same), and makes it searchable by its
// owner. ENOSYS (kernel without keys) is ignored like runc; any other failure
// throws. The caller skips this for --no-new-keyring.
void join_session_keyring(const std::string& container_id);

}  // namespace tether::security
