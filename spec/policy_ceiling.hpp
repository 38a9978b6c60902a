// The administrator's ceiling (spec/admin_config.hpp): with one, what a
// workload sets (annotations, and the run.tether.policy file they name) may
// only narrow the sandbox. Pure, table-tested in tests/unit/spec.
//
// Each key is compared by what loosening means for it: ports and CIDRs must
// lie inside the ceiling's, domains must be matched by a ceiling pattern,
// writable and executable paths must be at or below a ceiling path, and the
// switches that weaken enforcement (allowDNS, audit mode, bestEffort, signals
// left unscoped) need the ceiling to allow them. Keys that only narrow
// (deniedDomains, denyRead, denyWrite) are always accepted. A key the ceiling
// does not mention allows nothing beyond it.
#pragma once

#include <string>

#include "spec/policy.hpp"

namespace tether::spec {

// `value`: a policy holding only the workload's setting of `key` (without
// "run.tether."), named `label` in messages. Throws ParseError
//   "<label>: 1-65535 is beyond the ceiling 5432,8000-8010 of /etc/tether/admin.json"
void check_within_ceiling(const std::string& key, const std::string& label, const SandboxPolicy& value,
                          const SandboxPolicy& ceiling, const std::string& ceiling_source);

}  // namespace tether::spec
