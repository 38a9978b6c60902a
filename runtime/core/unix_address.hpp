// A unix socket address for a path at any depth. sun_path holds 107 bytes,
// and real state directories are longer: rootless Docker's
// /run/user/1000/docker/runtime-runc/moby/<64 hex>/netd.sock is 114. A path
// that does not fit is reached through an O_PATH fd of its directory as
// "/proc/self/fd/N/<name>" (the kernel follows the magic link for bind and
// connect alike). Never an abstract name instead: those are per network
// namespace, and Landlock scoping refuses them inside a sandbox.
#pragma once

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <string>

#include "runtime/core/error.hpp"
#include "runtime/core/unique_fd.hpp"

namespace tether {

class UnixAddress {
public:
    // Throws tether::Error naming the path when even the short form cannot
    // be made (its directory cannot be opened, or the name alone is too long).
    explicit UnixAddress(const std::string& path) {
        address_.sun_family = AF_UNIX;
        if (path.size() < sizeof address_.sun_path) {
            set(path);
            return;
        }
        size_t slash = path.find_last_of('/');
        std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
        std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
        dir_.reset(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!dir_) throw_errno("unix socket " + path + ": open its directory");
        std::string short_path = "/proc/self/fd/" + std::to_string(dir_.get()) + "/" + name;
        if (short_path.size() >= sizeof address_.sun_path) throw Error("unix socket name too long: " + path);
        set(short_path);
    }

    const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&address_); }
    socklen_t size() const { return sizeof address_; }

private:
    void set(const std::string& p) { std::memcpy(address_.sun_path, p.c_str(), p.size() + 1); }

    sockaddr_un address_{};
    UniqueFd dir_;  // held until the address is used
};

}  // namespace tether
