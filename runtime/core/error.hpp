// The one error type of the runtime: a message that names what failed (path,
// syscall, JSON field) and the errno, if any. Caught once per verb in
// runtime/cli/main.cpp, which formats it for --log / stderr.
#pragma once

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace tether {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message, int err = 0)
        : std::runtime_error(err ? message + ": " + std::strerror(err) : message), errno_(err) {}
    int error_number() const { return errno_; }

private:
    int errno_;
};

// Throws Error("<what>: <strerror(errno)>") with the current errno.
[[noreturn]] inline void throw_errno(const std::string& what) { throw Error(what, errno); }

// Calls fn and retries while it fails with EINTR.
template <typename Fn>
auto retry_eintr(Fn fn) {
    decltype(fn()) result;
    do {
        result = fn();
    } while (result == -1 && errno == EINTR);
    return result;
}

}  // namespace tether
