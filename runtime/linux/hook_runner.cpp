#include "runtime/linux/hook_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/core/error.hpp"
#include "runtime/core/unique_fd.hpp"

namespace tether::os {
namespace {

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

int64_t now_ms() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace

void run_hook(const char* kind, const spec::Hook& hook, const std::string& state_json, const std::string& cwd) {
    std::string what = std::string(kind) + " hook " + hook.path;
    // Opened here, not in the child: a directory we cannot enter fails the
    // hook with a message instead of a bare exit status.
    UniqueFd cwd_fd;
    if (!cwd.empty()) {
        cwd_fd.reset(::open(cwd.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!cwd_fd) throw_errno(what + ": open its working directory " + cwd);
    }
    int stdin_pipe[2];
    if (::pipe2(stdin_pipe, O_CLOEXEC) != 0) throw_errno(what + ": pipe");
    UniqueFd read_end(stdin_pipe[0]), write_end(stdin_pipe[1]);
    std::vector<std::string> args = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
    std::vector<char*> argv = c_strings(args), envp = c_strings(hook.env);

    // The child's errno if fchdir or execve fails; closed by a successful
    // execve (CLOEXEC), so an empty read means the hook runs. The message then
    // says why ("no such file or directory", "permission denied": the words
    // podman maps to 127 and 126), not just "exit status 127".
    int error_pipe[2];
    if (::pipe2(error_pipe, O_CLOEXEC) != 0) throw_errno(what + ": pipe");
    UniqueFd error_read(error_pipe[0]), error_write(error_pipe[1]);

    pid_t pid = ::fork();
    if (pid < 0) throw_errno(what + ": fork");
    if (pid == 0) {
        ::dup2(read_end.get(), STDIN_FILENO);
        int step = 0;
        if (!cwd_fd || ::fchdir(cwd_fd.get()) == 0) {
            step = 1;
            // Hooks see the runtime's stdout/stderr (runc passes its own stdio).
            ::execve(hook.path.c_str(), argv.data(), envp.data());
        }
        int failure[2] = {step, errno};
        (void)!::write(error_write.get(), failure, sizeof failure);
        ::_exit(127);
    }
    read_end.reset();
    error_write.reset();
    int failure[2];
    ssize_t got = retry_eintr([&] { return ::read(error_read.get(), failure, sizeof failure); });
    if (got == static_cast<ssize_t>(sizeof failure)) {
        int status = 0;
        retry_eintr([&] { return ::waitpid(pid, &status, 0); });
        errno = failure[1];
        throw_errno(what + (failure[0] == 0 ? ": enter its working directory " + cwd : ": exec"));
    }
    // The hook may not read its stdin at all: ignore EPIPE.
    ::signal(SIGPIPE, SIG_IGN);
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    UniqueFd pidfd_guard(pidfd);
    int64_t deadline = hook.timeout ? now_ms() + int64_t(*hook.timeout) * 1000 : -1;
    bool timed_out = false;
    if (pidfd >= 0) {
        // The state is written while we wait for the hook, without blocking:
        // a hook that never reads a state larger than the pipe (big
        // annotations) must still be killed at its timeout.
        ::fcntl(write_end.get(), F_SETFL, O_NONBLOCK);
        size_t done = 0;
        if (state_json.empty()) write_end.reset();
        for (;;) {
            struct pollfd p[2] = {{pidfd, POLLIN, 0}, {write_end.get(), POLLOUT, 0}};
            int wait_ms = deadline < 0 ? -1 : static_cast<int>(std::max<int64_t>(0, deadline - now_ms()));
            int r = ::poll(p, write_end ? 2 : 1, wait_ms);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) break;
            if (r == 0) {
                timed_out = true;
                ::kill(pid, SIGKILL);
                break;
            }
            if (p[0].revents) break;
            if (p[1].revents) {
                ssize_t n = ::write(write_end.get(), state_json.data() + done, state_json.size() - done);
                if (n > 0) done += static_cast<size_t>(n);
                // Written whole, or the hook closed its stdin: EOF for the hook.
                if (done == state_json.size() || (n < 0 && errno != EAGAIN)) write_end.reset();
            }
        }
    } else {
        size_t done = 0;
        while (done < state_json.size()) {
            ssize_t n = ::write(write_end.get(), state_json.data() + done, state_json.size() - done);
            if (n <= 0) break;
            done += static_cast<size_t>(n);
        }
    }
    write_end.reset();
    int status = 0;
    retry_eintr([&] { return ::waitpid(pid, &status, 0); });
    if (timed_out) throw Error(what + " did not finish within its timeout of " + std::to_string(*hook.timeout) + "s");
    if (WIFSIGNALED(status)) throw Error(what + " was killed by signal " + std::to_string(WTERMSIG(status)));
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        throw Error(what + " failed with exit status " + std::to_string(WEXITSTATUS(status)));
}

void run_hooks(const char* kind, const std::vector<spec::Hook>& hooks, const std::string& state_json,
               const std::string& cwd) {
    for (const auto& hook : hooks) run_hook(kind, hook, state_json, cwd);
}

std::vector<std::string> run_hooks_collect_errors(const char* kind, const std::vector<spec::Hook>& hooks,
                                                  const std::string& state_json, const std::string& cwd) {
    std::vector<std::string> errors;
    for (const auto& hook : hooks) {
        try {
            run_hook(kind, hook, state_json, cwd);
        } catch (const std::exception& e) {
            errors.push_back(e.what());
        }
    }
    return errors;
}

}  // namespace tether::os
