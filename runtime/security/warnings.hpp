// Things runtime/security skipped on purpose (a capability the running kernel
// does not know, a syscall name libseccomp cannot resolve): runc logs these
// at warning level and carries on, so the caller logs them and carries on too.
#pragma once

#include <string>
#include <vector>

namespace tether::security {

using Warnings = std::vector<std::string>;

}  // namespace tether::security
