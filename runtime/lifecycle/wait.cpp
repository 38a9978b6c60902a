#include "runtime/lifecycle/wait.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/core/error.hpp"
#include "runtime/core/unique_fd.hpp"

namespace tether {

int wait_forwarding_signals(pid_t pid, int pidfd) {
    sigset_t forwarded;
    sigemptyset(&forwarded);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGTSTP})
        sigaddset(&forwarded, sig);
    sigset_t previous;
    ::sigprocmask(SIG_BLOCK, &forwarded, &previous);
    UniqueFd signals(::signalfd(-1, &forwarded, SFD_CLOEXEC));
    if (!signals) throw_errno("signalfd");

    for (;;) {
        struct pollfd fds[2] = {{pidfd, POLLIN, 0}, {signals.get(), POLLIN, 0}};
        int r = ::poll(fds, 2, -1);
        if (r < 0) {
            if (errno == EINTR) continue;
            throw_errno("poll");
        }
        if (fds[1].revents & POLLIN) {
            struct signalfd_siginfo info;
            if (::read(signals.get(), &info, sizeof info) == sizeof info)
                ::syscall(SYS_pidfd_send_signal, pidfd, info.ssi_signo, nullptr, 0);
        }
        if (fds[0].revents & (POLLIN | POLLHUP)) break;
    }
    int status = 0;
    retry_eintr([&] { return ::waitpid(pid, &status, 0); });
    ::sigprocmask(SIG_SETMASK, &previous, nullptr);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}

}  // namespace tether
