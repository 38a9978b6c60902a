// Sandboxing is irreversible, so every enforcement test restricts a forked
// child. The child describes what it observed as text ("connect listed=ok
// unlisted=EACCES") through a pipe and the parent compares it with what the
// test expects: a failure shows both, and no GoogleTest macro runs in a child.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <functional>
#include <string>

namespace tether::sandbox::testing {

// "ok" when rc >= 0, else the errno's name ("EACCES").
inline std::string outcome(long rc) {
    if (rc >= 0) return "ok";
    const char* name = strerrorname_np(errno);
    return name ? name : "errno " + std::to_string(errno);
}

struct ChildResult {
    int exit_code = -1;  // 128 + signal when killed
    std::string output;
};

// Runs fn in a forked child and returns what it wrote. An exception in the
// child becomes "exception: <what>" and exit code 1.
inline ChildResult run_in_child(const std::function<std::string()>& fn) {
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) return {-1, "pipe failed"};
    const pid_t pid = fork();
    if (pid == 0) {
        close(pipe_fds[0]);
        int code = 0;
        std::string text;
        try {
            text = fn();
        } catch (const std::exception& e) {
            text = std::string("exception: ") + e.what();
            code = 1;
        }
        (void)!write(pipe_fds[1], text.data(), text.size());
        _exit(code);
    }
    close(pipe_fds[1]);
    ChildResult result;
    char buffer[4096];
    ssize_t n;
    while ((n = read(pipe_fds[0], buffer, sizeof buffer)) > 0) result.output.append(buffer, n);
    close(pipe_fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

}  // namespace tether::sandbox::testing
