#include "hooks/supervisor/supervisor.hpp"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>
#include <mutex>

#include "hooks/supervisor/trapped_call.hpp"
#include "hooks/supervisor/supervisor_state.hpp"
#include "runtime/core/error.hpp"
#include "runtime/core/kernel_compat.hpp"

namespace tether::hooks {
namespace {

// The signal that interrupts a blocked NOTIF_RECV. A real-time signal no
// library of ours uses; its handler does nothing: the EINTR is the point.
int wake_signal() { return SIGRTMIN + 5; }

void install_wake_handler() {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction action {};
        action.sa_handler = [](int) {};
        sigemptyset(&action.sa_mask);
        action.sa_flags = 0;  // no SA_RESTART: the blocked ioctl must return EINTR
        if (::sigaction(wake_signal(), &action, nullptr) != 0) throw_errno("supervisor: sigaction");
    });
}

// Linux >= 6.6 ends a receive on a listener nobody holds a filter of with
// ENOENT instead of blocking, exactly as for a caller killed before the
// receive: a poll that does not wait tells the two apart.
bool listener_hung_up(int listener) {
    pollfd fd{listener, 0, 0};
    return ::poll(&fd, 1, 0) == 1 && (fd.revents & (POLLHUP | POLLERR | POLLNVAL));
}

}  // namespace

Supervisor::Supervisor(UniqueFd listener, SupervisorPolicy policy, std::string container_id,
                       std::shared_ptr<DecisionLog> log)
    : state_(std::make_shared<SupervisorState>()) {
    state_->listener = std::move(listener);
    state_->policy = std::move(policy);
    state_->container_id = std::move(container_id);
    state_->log = std::move(log);
    stop_event_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!stop_event_) throw_errno("supervisor: eventfd");
    served_event_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!served_event_) throw_errno("supervisor: eventfd");
}

Supervisor::~Supervisor() {
    stop();
    wait();
}

void Supervisor::start() {
    if (thread_.joinable()) return;
    install_wake_handler();
    thread_ = std::thread([this] { serve(); });
    try {
        watcher_ = std::thread([this] { watch(); });
    } catch (...) {
        // No watcher, nobody could end the loop: end it before failing.
        stopping_ = true;
        interrupt_serving_thread();
        throw;
    }
}

void Supervisor::stop() {
    uint64_t one = 1;
    [[maybe_unused]] auto rc = ::write(stop_event_.get(), &one, sizeof one);
}

void Supervisor::wait() {
    if (watcher_.joinable()) watcher_.join();
    if (thread_.joinable()) thread_.join();
    // The last allowed calls' lines may still wait (DecisionLog::write_soon).
    if (state_->log) state_->log->flush();
}

void Supervisor::serve() {
    int listener = state_->listener.get();
    // Linux 6.6: the trapped thread only waits for the reply, so the kernel
    // may wake this thread on the trapped thread's CPU, and the trapped one
    // on ours when the reply goes, instead of two cross-CPU wake-ups per
    // call (docs/benchmarks.md). Older kernels refuse the flag with EINVAL;
    // the supervisor works the same without it.
    ::ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
    while (!stopping_) {
        seccomp_notif notification;
        std::memset(&notification, 0, sizeof notification);  // RECV insists on a zeroed struct
        if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &notification) != 0) {
            if (errno == EINTR) continue;  // the watcher's signal: stopping_ says why
            // ENOENT: the caller was killed before the receive, or (6.6+)
            // every task with the filter is gone.
            if (errno == ENOENT && !listener_hung_up(listener)) continue;
            break;
        }
        handle_notification(state_, notification);
    }
    uint64_t one = 1;
    [[maybe_unused]] auto rc = ::write(served_event_.get(), &one, sizeof one);
}

void Supervisor::watch() {
    // events 0: only the hang-up (every task that had the filter is gone)
    // is reported for the listener, never its pending notifications.
    pollfd fds[3] = {{state_->listener.get(), 0, 0}, {stop_event_.get(), POLLIN, 0}, {served_event_.get(), POLLIN, 0}};
    while (::poll(fds, 3, -1) < 0 && errno == EINTR) {
    }
    stopping_ = true;
    interrupt_serving_thread();
}

void Supervisor::interrupt_serving_thread() {
    // A signal that lands after serve() checked stopping_ but before it
    // entered the ioctl is lost; so it is sent again until serve() says it
    // has returned.
    pollfd served{served_event_.get(), POLLIN, 0};
    while (::poll(&served, 1, 0) == 0) {
        ::pthread_kill(thread_.native_handle(), wake_signal());
        ::poll(&served, 1, 10);
    }
}

}  // namespace tether::hooks
