// Loopback sockets for the enforcement tests: only 127.0.0.1 and abstract
// unix sockets this test creates itself.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstdint>
#include <string>
#include <utility>

#include "runtime/core/unique_fd.hpp"
#include "tests/unit/sandbox/child_process.hpp"

namespace tether::sandbox::testing {

inline sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

// A listening TCP socket on 127.0.0.1 and the port the kernel chose.
inline std::pair<UniqueFd, std::uint16_t> listen_on_loopback(int protocol = 0) {
    UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, protocol));
    sockaddr_in address = loopback(0);
    if (!fd || bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        listen(fd.get(), 8) != 0)
        return {UniqueFd(), 0};
    socklen_t length = sizeof address;
    getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length);
    return {std::move(fd), ntohs(address.sin_port)};
}

// A port nothing listens on right now (bound to 0, read back, closed).
inline std::uint16_t free_loopback_port() { return listen_on_loopback().second; }

inline std::string connect_outcome(std::uint16_t port, int protocol = 0) {
    UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, protocol));
    if (!fd) return "socket " + outcome(-1);
    const sockaddr_in address = loopback(port);
    return outcome(connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address));
}

inline std::string bind_outcome(std::uint16_t port) {
    UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return "socket " + outcome(-1);
    const sockaddr_in address = loopback(port);
    return outcome(bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address));
}

inline sockaddr_un abstract_address(const std::string& name, socklen_t& length) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    address.sun_path[0] = '\0';
    name.copy(address.sun_path + 1, sizeof address.sun_path - 2);
    length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    return address;
}

inline UniqueFd listen_abstract(const std::string& name) {
    UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    socklen_t length = 0;
    const sockaddr_un address = abstract_address(name, length);
    if (!fd || bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0 ||
        listen(fd.get(), 8) != 0)
        return UniqueFd();
    return fd;
}

inline std::string connect_abstract_outcome(const std::string& name) {
    UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    socklen_t length = 0;
    const sockaddr_un address = abstract_address(name, length);
    return outcome(connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), length));
}

}  // namespace tether::sandbox::testing
