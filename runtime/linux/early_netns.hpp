// A container's new network namespace, made on a thread of its own instead
// of by the clone. Making one is the dearest part of the clone (the kernel
// registers every per-namespace sysctl table and device); `lo` is brought up
// there too. Either the thread runs while `create` does its other work
// before the clone and the init joins the namespace as its first step (a
// sandbox: tether-netd needs it at `hello`), or it starts right after the
// clone and the namespace goes to the init with `go` (create.cpp). Never a
// thread alive at the clone: the child's glibc would still list it, and its
// setgroups/setuid (__nptl_setxid) would wait for it forever.
//
// Only without a new user namespace: a network namespace belongs to the user
// namespace of the process that makes it, and a container with a user
// namespace of its own must own its network namespace (its clone makes both,
// as before). Without one, the thread's user namespace is the runtime's, as
// the clone's would be. A namespace the thread cannot make leaves the clone
// to make it, with CLONE_NEWNET: what fails there is reported there.
#pragma once

#include <string>
#include <thread>

#include "runtime/core/unique_fd.hpp"

namespace tether::os {

class EarlyNetworkNamespace {
public:
    EarlyNetworkNamespace() = default;
    EarlyNetworkNamespace(const EarlyNetworkNamespace&) = delete;
    EarlyNetworkNamespace& operator=(const EarlyNetworkNamespace&) = delete;
    ~EarlyNetworkNamespace();

    // Starts the thread that makes the namespace.
    void start();
    bool started() const { return started_; }
    // Waits for the thread; the namespace (an fd of it, for setns), or an
    // empty fd when it was not started or could not be made.
    UniqueFd take();
    // Why take() gave nothing: what failed, with its errno.
    const std::string& error() const { return error_; }

private:
    std::thread thread_;
    bool started_ = false;
    UniqueFd namespace_;
    std::string error_;
};

}  // namespace tether::os
