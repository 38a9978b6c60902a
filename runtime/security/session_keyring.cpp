// A fresh session keyring per container, like runc: without it the container
// would share the runtime's session keyring and could read or add to its keys.
#include <linux/keyctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "runtime/core/error.hpp"
#include "runtime/security/process_attributes.hpp"

namespace tether::security {
namespace {

long keyctl(int operation, unsigned long a2, unsigned long a3 = 0, unsigned long a4 = 0) {
    return syscall(SYS_keyctl, operation, a2, a3, a4, 0);
}

// KEY_USR_SEARCH: the owner may search the keyring (find keys in it).
constexpr unsigned kKeyUserSearch = 0x00080000;

}  // namespace

void join_session_keyring(const std::string& container_id) {
    std::string name = "_ses." + container_id;
    long serial = keyctl(KEYCTL_JOIN_SESSION_KEYRING, reinterpret_cast<unsigned long>(name.c_str()));
    if (serial < 0) {
        // A kernel built without CONFIG_KEYS: nothing to isolate (runc too).
        if (errno == ENOSYS) return;
        throw_errno("keyctl(KEYCTL_JOIN_SESSION_KEYRING, " + name + ")");
    }
    // The description is "type;uid;gid;perm;name" with perm in hex.
    char description[512];
    long length = keyctl(KEYCTL_DESCRIBE, static_cast<unsigned long>(serial),
                         reinterpret_cast<unsigned long>(description), sizeof description);
    if (length < 0) throw_errno("keyctl(KEYCTL_DESCRIBE, " + name + ")");
    description[sizeof description - 1] = '\0';
    unsigned perm = 0;
    if (std::sscanf(description, "%*[^;];%*[^;];%*[^;];%x", &perm) != 1)
        throw Error("keyctl(KEYCTL_DESCRIBE, " + name + "): unexpected description \"" +
                    std::string(description) + "\"");
    if (keyctl(KEYCTL_SETPERM, static_cast<unsigned long>(serial), perm | kKeyUserSearch) < 0)
        throw_errno("keyctl(KEYCTL_SETPERM, " + name + ")");
}

}  // namespace tether::security
