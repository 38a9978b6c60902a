#include "hooks/supervisor/supervisor.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include <cstring>

#include "hooks/supervisor/supervisor_state.hpp"
#include "runtime/core/error.hpp"
#include "runtime/core/kernel_compat.hpp"

namespace tether::hooks {

Supervisor::Supervisor(UniqueFd listener, SupervisorPolicy policy, std::string container_id,
                       std::shared_ptr<DecisionLog> log)
    : state_(std::make_shared<SupervisorState>()) {
    state_->listener = std::move(listener);
    state_->policy = std::move(policy);
    state_->container_id = std::move(container_id);
    state_->log = std::move(log);
    stop_event_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!stop_event_) throw_errno("supervisor: eventfd");
}

Supervisor::~Supervisor() {
    stop();
    wait();
}

void Supervisor::start() {
    if (thread_.joinable()) return;
    thread_ = std::thread([this] { serve(); });
}

void Supervisor::stop() {
    uint64_t one = 1;
    [[maybe_unused]] auto rc = ::write(stop_event_.get(), &one, sizeof one);
}

void Supervisor::wait() {
    if (thread_.joinable()) thread_.join();
}

void Supervisor::serve() {
    int listener = state_->listener.get();
    // Linux 6.6: the trapped thread only waits for the reply, so the kernel
    // may wake this thread on the trapped thread's CPU, and the trapped one
    // on ours when the reply goes, instead of two cross-CPU wake-ups per
    // call. (On the loaded 2-CPU benchmark machine it made no measurable
    // difference either way: docs/benchmarks.md.) Older kernels refuse the
    // flag with EINVAL; the supervisor works the same without it.
    ::ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
    for (;;) {
        pollfd fds[2] = {{listener, POLLIN, 0}, {stop_event_.get(), POLLIN, 0}};
        int n = ::poll(fds, 2, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (fds[1].revents) return;
        if (fds[0].revents & POLLIN) {
            seccomp_notif notification;
            std::memset(&notification, 0, sizeof notification);  // RECV insists on a zeroed struct
            if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &notification) != 0) {
                // ENOENT: the caller was killed between poll and recv.
                if (errno == EINTR || errno == ENOENT) continue;
                return;
            }
            handle_notification(state_, notification);
            continue;
        }
        // POLLHUP: every task that had the filter is gone.
        if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) return;
    }
}

}  // namespace tether::hooks
