// Runs a test body in a forked child, because what runtime/security does
// (seccomp filters, setuid, capability drops, rlimits) cannot be undone in the
// test process. The child reports text through a pipe; its exit code says
// whether the body succeeded. A child still alive when the handle goes away
// (a failed assertion in the parent) is killed and reaped.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <exception>
#include <functional>
#include <string>
#include <utility>

namespace tether::security::test {

struct ChildResult {
    int exit_code = -1;  // -1: killed by a signal
    int signal = 0;
    std::string output;
};

class Child {
public:
    // body fills `out` and returns the exit code; an exception becomes exit
    // code 99 with its message as output.
    static Child spawn(const std::function<int(std::string& out)>& body) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) std::terminate();
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            std::string out;
            int code = 0;
            try {
                code = body(out);
            } catch (const std::exception& e) {
                out = std::string("exception: ") + e.what();
                code = 99;
            }
            size_t done = 0;
            while (done < out.size()) {
                ssize_t n = write(fds[1], out.data() + done, out.size() - done);
                if (n <= 0) break;
                done += static_cast<size_t>(n);
            }
            _exit(code);
        }
        close(fds[1]);
        return Child(pid, fds[0]);
    }

    Child(Child&& other) noexcept
        : pid_(std::exchange(other.pid_, -1)), out_fd_(std::exchange(other.out_fd_, -1)) {}
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        if (out_fd_ >= 0) close(out_fd_);
    }

    pid_t pid() const { return pid_; }

    ChildResult wait() {
        ChildResult result;
        char buffer[4096];
        ssize_t n;
        while ((n = read(out_fd_, buffer, sizeof buffer)) > 0)
            result.output.append(buffer, static_cast<size_t>(n));
        int status = 0;
        waitpid(pid_, &status, 0);
        pid_ = -1;
        if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
        if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
        return result;
    }

private:
    Child(pid_t pid, int out_fd) : pid_(pid), out_fd_(out_fd) {}
    pid_t pid_;
    int out_fd_;
};

inline ChildResult run_in_child(const std::function<int(std::string& out)>& body) {
    return Child::spawn(body).wait();
}

}  // namespace tether::security::test
