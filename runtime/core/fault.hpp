// Test-only fault points. With TETHER_FAULT=<name> in the runtime's
// environment, the runtime kills itself with SIGKILL when it reaches the point
// of that name, so tests can check that `delete --force` cleans up after a
// runtime that died at any step. Costs one getenv per point otherwise.
#pragma once

namespace tether {

void fault_point(const char* name);

}  // namespace tether
