// What the live tests of the cgroup socket programs share: a scratch cgroup
// in the cgroup v2 hierarchy, a child that runs a call from inside it, and
// the calls themselves (each returns 0 or the errno).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <string>

#include "hooks/bpf/socket_enforcement.hpp"

namespace tether::hooks::bpf {

// Removed with the object (its processes have exited by then); a cgroup
// made below it (`parent`) goes first.
class ScratchCgroup {
public:
    explicit ScratchCgroup(const std::string& name = "", const std::string& parent = "") {
        std::string root = parent.empty() ? cgroup2_mount_point() : parent;
        if (root.empty()) return;
        path_ = root + "/tether-bpf-test-" + std::to_string(::getpid()) + name;
        if (::mkdir(path_.c_str(), 0755) != 0) path_.clear();
    }
    ScratchCgroup(const ScratchCgroup&) = delete;
    ScratchCgroup& operator=(const ScratchCgroup&) = delete;
    // Removes it now (what a container's delete does); false when it could not.
    bool remove() {
        bool removed = !path_.empty() && ::rmdir(path_.c_str()) == 0;
        if (removed) path_.clear();
        return removed;
    }
    ~ScratchCgroup() {
        if (!path_.empty()) ::rmdir(path_.c_str());
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// Runs `body` in a child moved into `cgroup` first; returns what it
// returned (an errno, 0 for success), or -1 when it could not run.
inline int in_cgroup(const std::string& cgroup, const std::function<int()>& body) {
    int go[2], result[2];
    if (::pipe(go) != 0 || ::pipe(result) != 0) return -1;
    pid_t child = ::fork();
    if (child == 0) {
        char byte;
        ::close(go[1]);
        if (::read(go[0], &byte, 1) != 1) ::_exit(1);
        int r = body();
        [[maybe_unused]] auto n = ::write(result[1], &r, sizeof r);
        ::_exit(0);
    }
    ::close(go[0]);
    ::close(result[1]);
    std::ofstream(cgroup + "/cgroup.procs") << child << std::flush;
    [[maybe_unused]] auto n = ::write(go[1], "g", 1);
    ::close(go[1]);
    int r = -1;
    if (::read(result[0], &r, sizeof r) != sizeof r) r = -1;
    ::close(result[0]);
    ::waitpid(child, nullptr, 0);
    return r;
}

inline sockaddr_storage address(const char* text, uint16_t port, socklen_t& length) {
    sockaddr_storage s{};
    if (std::strchr(text, ':')) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&s);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        inet_pton(AF_INET6, text, &a->sin6_addr);
        length = sizeof *a;
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&s);
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        inet_pton(AF_INET, text, &a->sin_addr);
        length = sizeof *a;
    }
    return s;
}

inline int tcp_connect(const char* to, uint16_t port) {
    socklen_t length;
    sockaddr_storage a = address(to, port, length);
    int fd = ::socket(a.ss_family, SOCK_STREAM, 0);
    int r = ::connect(fd, reinterpret_cast<sockaddr*>(&a), length) == 0 ? 0 : errno;
    ::close(fd);
    return r;
}

inline int udp_sendto(const char* to, uint16_t port) {
    socklen_t length;
    sockaddr_storage a = address(to, port, length);
    int fd = ::socket(a.ss_family, SOCK_DGRAM, 0);
    int r = ::sendto(fd, "x", 1, 0, reinterpret_cast<sockaddr*>(&a), length) == 1 ? 0 : errno;
    ::close(fd);
    return r;
}

}  // namespace tether::hooks::bpf
