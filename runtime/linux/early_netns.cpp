#include "runtime/linux/early_netns.hpp"

#include <fcntl.h>
#include <sched.h>

#include <cerrno>
#include <cstring>

#include "runtime/linux/namespaces.hpp"

namespace tether::os {

void EarlyNetworkNamespace::start() {
    started_ = true;
    thread_ = std::thread([this] {
        // unshare moves only this thread (its own nsproxy); the fd keeps the
        // namespace once the thread has gone.
        if (::unshare(CLONE_NEWNET) != 0) {
            error_ = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
            return;
        }
        try {
            bring_loopback_up();
        } catch (const std::exception& e) {
            error_ = e.what();
            return;  // create reports it, or has the clone make one (create.cpp)
        }
        namespace_.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
        if (!namespace_) error_ = std::string("open /proc/thread-self/ns/net: ") + std::strerror(errno);
    });
}

UniqueFd EarlyNetworkNamespace::take() {
    if (thread_.joinable()) thread_.join();
    return std::move(namespace_);
}

EarlyNetworkNamespace::~EarlyNetworkNamespace() {
    if (thread_.joinable()) thread_.join();
}

}  // namespace tether::os
