// Linux capability names as the runtime-spec writes them ("CAP_CHOWN") and
// their numbers (linux/capability.h). Kept here, not taken from libcap, so
// that spec/ validates a config the same way on every host, whatever the
// installed libcap knows.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace tether::spec {

// CAP_CHOWN -> 0 ... CAP_CHECKPOINT_RESTORE -> 40; nullopt for anything else
// (names are case-sensitive, as in runc).
std::optional<int> capability_number(std::string_view name);

// All names, indexed by capability number.
const std::vector<std::string_view>& all_capability_names();

}  // namespace tether::spec
