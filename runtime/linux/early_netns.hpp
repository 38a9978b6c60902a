// A container's new network namespace, made on a thread of its own while
// `create` does its other work before the clone (the state directory, the
// cgroups), then joined by the init as its first step instead of being made
// by the clone. Making one is the dearest part of the clone (the kernel
// registers every per-namespace sysctl table and device), and nothing before
// the clone needs it; `lo` is brought up there too.
//
// Only without a new user namespace: a network namespace belongs to the user
// namespace of the process that makes it, and a container with a user
// namespace of its own must own its network namespace (its clone makes both,
// as before). Without one, the thread's user namespace is the runtime's, as
// the clone's would be. A namespace the thread cannot make leaves the clone
// to make it, with CLONE_NEWNET: what fails there is reported there.
#pragma once

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
    // Waits for the thread; the namespace (an fd of it, for setns), or an
    // empty fd when it was not started or could not be made.
    UniqueFd take();

private:
    std::thread thread_;
    UniqueFd namespace_;
};

}  // namespace tether::os
