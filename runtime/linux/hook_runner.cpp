#include "runtime/linux/hook_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>

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

// What a hook printed: the last kKeep bytes of a stream, as runc puts into a
// failing hook's error (podman, containerd and Docker show only the
// runtime's error, never the hook's own output).
class OutputTail {
public:
    static constexpr size_t kKeep = 4096;

    explicit OutputTail(UniqueFd fd) : fd_(std::move(fd)) {}
    int fd() const { return fd_.get(); }
    bool open() const { return static_cast<bool>(fd_); }

    // Reads what is there now (the fd is non-blocking); EOF closes it.
    void read_available() {
        char buffer[4096];
        while (fd_) {
            ssize_t n = ::read(fd_.get(), buffer, sizeof buffer);
            if (n > 0) {
                text_.append(buffer, static_cast<size_t>(n));
                if (text_.size() > 2 * kKeep) text_.erase(0, text_.size() - kKeep);
                continue;
            }
            if (n == 0 || (errno != EAGAIN && errno != EINTR)) fd_.reset();
            if (n < 0 && errno == EINTR) continue;
            return;
        }
    }

    // One line of the last kKeep bytes, for a message ("" when nothing).
    std::string tail() const {
        std::string t = text_.size() > kKeep ? text_.substr(text_.size() - kKeep) : text_;
        while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
        for (char& c : t)
            if (c == '\n') c = ' ';
        return t;
    }

private:
    UniqueFd fd_;
    std::string text_;
};

std::string with_output(std::string message, const OutputTail& out, const OutputTail& err) {
    if (std::string e = err.tail(); !e.empty()) message += ": stderr: " + e;
    if (std::string o = out.tail(); !o.empty()) message += ": stdout: " + o;
    return message;
}

}  // namespace

struct StartedHook::Running {
    std::string what;
    std::optional<uint32_t> timeout;
    std::string cwd;
    pid_t pid = -1;
    UniqueFd exec_errors;  // the child's errno if fchdir or execve failed; EOF once it runs
    UniqueFd pidfd;
    UniqueFd write_end;
    std::string state_json;
    size_t written = 0;
    bool fed = false;  // feed() gave the state (an empty stdin otherwise)
    OutputTail out_tail{UniqueFd()};
    OutputTail err_tail{UniqueFd()};
    int64_t deadline = -1;

    // What fits into the pipe now, without blocking; EOF once it is all in.
    void write_state_available() {
        while (write_end && written < state_json.size()) {
            ssize_t n = ::write(write_end.get(), state_json.data() + written, state_json.size() - written);
            if (n > 0) {
                written += static_cast<size_t>(n);
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            // The hook closed its stdin (EPIPE): it gets no more.
            if (n < 0 && errno != EAGAIN) write_end.reset();
            return;
        }
        write_end.reset();
    }
};

StartedHook::StartedHook(const char* kind, const spec::Hook& hook, const std::string& state_json,
                         const std::string& cwd)
    : StartedHook(kind, hook, cwd) {
    feed(state_json);
}

StartedHook::StartedHook(const char* kind, const spec::Hook& hook, const std::string& cwd)
    : running_(std::make_unique<Running>()) {
    Running& r = *running_;
    r.what = std::string(kind) + " hook " + hook.path;
    r.timeout = hook.timeout;
    const std::string& what = r.what;
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
    // The hook's stdout and stderr come back to us (runc's way): on failure
    // their last 4 KiB are in the error. Read while it runs, and only until
    // it exits: a hook that leaves a daemon holding them must not hold us.
    int out_pipe[2], err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC | O_NONBLOCK) != 0) throw_errno(what + ": pipe");
    UniqueFd out_write(out_pipe[1]);
    r.out_tail = OutputTail{UniqueFd(out_pipe[0])};
    if (::pipe2(err_pipe, O_CLOEXEC | O_NONBLOCK) != 0) throw_errno(what + ": pipe");
    UniqueFd err_write(err_pipe[1]);
    r.err_tail = OutputTail{UniqueFd(err_pipe[0])};

    pid_t pid = ::fork();
    if (pid < 0) throw_errno(what + ": fork");
    if (pid == 0) {
        ::dup2(read_end.get(), STDIN_FILENO);
        ::dup2(out_write.get(), STDOUT_FILENO);
        ::dup2(err_write.get(), STDERR_FILENO);
        // The hook's own stdio is blocking, whatever our ends are.
        for (int fd : {STDOUT_FILENO, STDERR_FILENO}) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        int step = 0;
        if (!cwd_fd || ::fchdir(cwd_fd.get()) == 0) {
            step = 1;
            ::execve(hook.path.c_str(), argv.data(), envp.data());
        }
        int failure[2] = {step, errno};
        (void)!::write(error_write.get(), failure, sizeof failure);
        ::_exit(127);
    }
    read_end.reset();
    error_write.reset();
    out_write.reset();
    err_write.reset();
    // Whether the exec worked is read by wait(), not here: create goes on
    // while the hook's exec and dynamic loading run on the other CPU.
    r.pid = pid;
    r.cwd = cwd;
    r.exec_errors = std::move(error_read);
    // The hook may not read its stdin at all (or never ran): ignore EPIPE.
    ::signal(SIGPIPE, SIG_IGN);
    r.pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    r.write_end = std::move(write_end);
}

void StartedHook::feed(const std::string& state_json) {
    Running& r = *running_;
    if (r.fed) return;
    r.fed = true;
    // The timeout counts from the state: a hook started early is waiting
    // for it until then.
    r.deadline = r.timeout ? now_ms() + int64_t(*r.timeout) * 1000 : -1;
    // The state goes in now, as far as the pipe takes it (all of it but for
    // huge annotations): a hook started early reads it while we do other
    // work; the rest goes in while wait() waits. Without a pidfd, blocking.
    r.state_json = state_json;
    if (r.state_json.empty()) r.write_end.reset();
    if (r.pidfd && r.write_end) ::fcntl(r.write_end.get(), F_SETFL, O_NONBLOCK);
    r.write_state_available();
}

StartedHook::StartedHook(StartedHook&&) noexcept = default;

StartedHook::~StartedHook() {
    // Not waited for (create failed meanwhile): wait anyway, so that no
    // zombie stays and whatever it set up is complete when the caller's
    // clean-up runs; its verdict no longer matters.
    if (!running_ || running_->pid < 0) return;
    try {
        wait();
    } catch (...) {
    }
}

void StartedHook::wait() {
    if (!running_ || running_->pid < 0) return;
    Running& r = *running_;
    if (!r.fed) feed("");
    const std::string& what = r.what;
    const pid_t pid = r.pid;
    r.pid = -1;
    int failure[2];
    ssize_t got = retry_eintr([&] { return ::read(r.exec_errors.get(), failure, sizeof failure); });
    r.exec_errors.reset();
    if (got == static_cast<ssize_t>(sizeof failure)) {
        int status = 0;
        retry_eintr([&] { return ::waitpid(pid, &status, 0); });
        errno = failure[1];
        throw_errno(what + (failure[0] == 0 ? ": enter its working directory " + r.cwd : ": exec"));
    }
    OutputTail& out_tail = r.out_tail;
    OutputTail& err_tail = r.err_tail;
    bool timed_out = false;
    if (r.pidfd) {
        for (;;) {
            // A closed stream polls as -1 (ignored by poll). The state is
            // written while we wait, without blocking: a hook that never reads
            // a state larger than the pipe must still be killed at its timeout.
            struct pollfd p[4] = {{r.pidfd.get(), POLLIN, 0},
                                  {out_tail.open() ? out_tail.fd() : -1, POLLIN, 0},
                                  {err_tail.open() ? err_tail.fd() : -1, POLLIN, 0},
                                  {r.write_end ? r.write_end.get() : -1, POLLOUT, 0}};
            int wait_ms = r.deadline < 0 ? -1 : static_cast<int>(std::max<int64_t>(0, r.deadline - now_ms()));
            int n = ::poll(p, 4, wait_ms);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) break;
            if (n == 0) {
                timed_out = true;
                ::kill(pid, SIGKILL);
                break;
            }
            if (p[1].revents) out_tail.read_available();
            if (p[2].revents) err_tail.read_available();
            if (p[0].revents) break;
            if (p[3].revents) r.write_state_available();
        }
    }
    r.write_end.reset();
    int status = 0;
    retry_eintr([&] { return ::waitpid(pid, &status, 0); });
    // What it wrote before it exited is in the pipes now.
    out_tail.read_available();
    err_tail.read_available();
    if (timed_out)
        throw Error(with_output(what + " did not finish within its timeout of " + std::to_string(*r.timeout) + "s",
                                out_tail, err_tail));
    if (WIFSIGNALED(status))
        throw Error(with_output(what + " was killed by signal " + std::to_string(WTERMSIG(status)), out_tail, err_tail));
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        throw Error(with_output(what + " failed with exit status " + std::to_string(WEXITSTATUS(status)), out_tail,
                                err_tail));
}

void run_hook(const char* kind, const spec::Hook& hook, const std::string& state_json, const std::string& cwd) {
    StartedHook(kind, hook, state_json, cwd).wait();
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
