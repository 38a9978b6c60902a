#include "runtime/lifecycle/launch.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "runtime/core/error.hpp"
#include "runtime/core/fs.hpp"
#include "runtime/core/unique_fd.hpp"
#include "runtime/linux/path_in_root.hpp"

namespace tether::launch {

namespace {

long raw_clone3(unsigned long flags, int* pidfd, int cgroup_fd) {
    struct clone_args args {};
    args.flags = flags | CLONE_PIDFD;
    args.pidfd = reinterpret_cast<uint64_t>(pidfd);
    args.exit_signal = SIGCHLD;
    if (cgroup_fd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = static_cast<uint64_t>(cgroup_fd);
    }
    return ::syscall(SYS_clone3, &args, sizeof args);
}

}  // namespace

pid_t clone_child(unsigned long flags, int* pidfd, const char* what) {
    long pid = raw_clone3(flags, pidfd, -1);
    if (pid < 0) throw_errno(std::string("clone3 ") + what);
    return static_cast<pid_t>(pid);
}

pid_t clone_child_into_cgroup(unsigned long flags, int* pidfd, const char* what, int cgroup_fd,
                              bool* born_in_cgroup) {
    *born_in_cgroup = false;
    if (cgroup_fd >= 0) {
        long pid = raw_clone3(flags, pidfd, cgroup_fd);
        if (pid >= 0) {
            *born_in_cgroup = true;
            return static_cast<pid_t>(pid);
        }
    }
    return clone_child(flags, pidfd, what);
}

void write_pid_file(const std::string& path, pid_t pid) {
    std::string absolute = fs::absolute_path(path);
    size_t slash = absolute.find_last_of('/');
    std::string dir = absolute.substr(0, slash);
    UniqueFd dir_fd(::open(dir.empty() ? "/" : dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd) throw_errno("pid file directory " + dir);
    fs::write_file_atomic_at(dir_fd.get(), absolute.substr(slash + 1), std::to_string(pid), 0644);
}

void mark_fds_for_exec(int preserve_fds, const std::vector<int>& ours) {
    int first = 3 + preserve_fds;
    if (::syscall(SYS_close_range, static_cast<unsigned int>(first), ~0u, CLOSE_RANGE_CLOEXEC) != 0)
        throw_errno("close_range");
    for (int fd = 3; fd < first; ++fd)
        if (std::find(ours.begin(), ours.end(), fd) == ours.end()) ::fcntl(fd, F_SETFD, 0);
}

void become_root_in_user_namespace() {
    if (::setresgid(0, 0, 0) != 0) throw_errno("setresgid 0 in the user namespace");
    if (::setresuid(0, 0, 0) != 0) throw_errno("setresuid 0 in the user namespace");
}

void enter_cwd(const std::string& cwd, MissingCwd missing) {
    UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw_errno("open /");
    UniqueFd dir = missing == MissingCwd::create ? os::make_path_in_root(root.get(), cwd, os::NodeKind::directory)
                                                 : os::open_in_root(root.get(), cwd, O_PATH | O_DIRECTORY);
    if (::fchdir(dir.get()) != 0) throw_errno("chdir to process.cwd " + cwd);
}

void set_env(std::vector<std::string>& env, const std::string& entry) {
    std::string key = entry.substr(0, entry.find('='));
    std::erase_if(env, [&](const std::string& e) { return e.rfind(key + "=", 0) == 0; });
    env.push_back(entry);
}

std::string home_from_passwd(std::istream& passwd, uint32_t uid) {
    const std::string wanted = std::to_string(uid);
    std::string line;
    while (std::getline(passwd, line)) {
        std::vector<std::string> fields;
        size_t pos = 0;
        for (size_t colon; (colon = line.find(':', pos)) != std::string::npos; pos = colon + 1)
            fields.push_back(line.substr(pos, colon - pos));
        fields.push_back(line.substr(pos));
        // The first line for the uid decides, as in runc's user.GetExecUser.
        if (fields.size() >= 6 && fields[2] == wanted) return fields[5];
    }
    return "/";
}

void add_home(std::vector<std::string>& env, uint32_t uid) {
    for (const auto& entry : env)
        if (entry.rfind("HOME=", 0) == 0) return;
    std::ifstream passwd("/etc/passwd");
    env.push_back("HOME=" + home_from_passwd(passwd, uid));
}

void reset_signals() {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig = 1; sig < NSIG; ++sig)
        if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
}

void exec_process(const std::string& path, const std::vector<std::string>& args, const std::vector<std::string>& env) {
    std::vector<char*> argv, envp;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    ::execve(path.c_str(), argv.data(), envp.data());
    throw_errno("exec " + path);
}

}  // namespace tether::launch
