#include "runtime/core/fault.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace tether {

void fault_point(const char* name) {
    static const char* wanted = std::getenv("TETHER_FAULT");
    if (wanted && std::strcmp(wanted, name) == 0) ::kill(::getpid(), SIGKILL);
}

}  // namespace tether
