#include "runtime/linux/console.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "runtime/core/error.hpp"
#include "runtime/core/fd_passing.hpp"
#include "runtime/core/unix_address.hpp"
#include "runtime/linux/path_in_root.hpp"
#include "runtime/linux/sync_messages.hpp"

namespace tether::os {
namespace {

void write_all(int fd, const char* data, size_t size) {
    while (size > 0) {
        ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // the reader went away: nothing more to deliver
        data += n;
        size -= static_cast<size_t>(n);
    }
}

// Copies what is readable now; false on EOF or error (EIO once the slave is gone).
bool pump(int from, int to) {
    char buffer[16384];
    ssize_t n = ::read(from, buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (n <= 0) return false;
    write_all(to, buffer, static_cast<size_t>(n));
    return true;
}

void copy_window_size(int from_tty, int to_master) {
    struct winsize size {};
    if (::ioctl(from_tty, TIOCGWINSZ, &size) == 0) ::ioctl(to_master, TIOCSWINSZ, &size);
}

// Our own terminal in raw mode (the container's pty does the line
// discipline), put back as it was however we leave.
class RawTerminal {
public:
    explicit RawTerminal(int fd) : fd_(fd) {
        if (!::isatty(fd) || ::tcgetattr(fd, &saved_) != 0) return;
        struct termios raw = saved_;
        ::cfmakeraw(&raw);
        active_ = ::tcsetattr(fd, TCSANOW, &raw) == 0;
    }
    ~RawTerminal() {
        if (active_) ::tcsetattr(fd_, TCSANOW, &saved_);
    }
    RawTerminal(const RawTerminal&) = delete;
    RawTerminal& operator=(const RawTerminal&) = delete;

private:
    int fd_;
    struct termios saved_ {};
    bool active_ = false;
};

}  // namespace

Pty open_container_pty(const std::optional<spec::ConsoleSize>& size) {
    Pty pty;
    pty.master = UniqueFd(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!pty.master) throw_errno("open /dev/ptmx in the container (is /dev/pts mounted?)");
    if (::unlockpt(pty.master.get()) != 0) throw_errno("unlockpt");
    // TIOCGPTPEER opens the slave through the master, never by a path the
    // container could have replaced.
    pty.slave = UniqueFd(::ioctl(pty.master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!pty.slave) throw_errno("open the pty slave (TIOCGPTPEER)");
    unsigned int number = 0;
    if (::ioctl(pty.master.get(), TIOCGPTN, &number) != 0) throw_errno("TIOCGPTN");
    pty.slave_path = "/dev/pts/" + std::to_string(number);
    if (size && size->height && size->width) {
        struct winsize ws {};
        ws.ws_row = static_cast<unsigned short>(size->height);
        ws.ws_col = static_cast<unsigned short>(size->width);
        if (::ioctl(pty.master.get(), TIOCSWINSZ, &ws) != 0) throw_errno("process.consoleSize: TIOCSWINSZ");
    }
    return pty;
}

void bind_console(const Pty& pty) {
    UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw_errno("open /");
    UniqueFd console = make_path_in_root(root.get(), "/dev/console", NodeKind::file);
    if (::mount(fd_path(pty.slave.get()).c_str(), fd_path(console.get()).c_str(), nullptr, MS_BIND, nullptr) != 0)
        throw_errno("bind " + pty.slave_path + " at /dev/console");
}

void make_controlling_tty(int slave) {
    if (::setsid() < 0) throw_errno("setsid for the terminal");
    if (::ioctl(slave, TIOCSCTTY, 0) != 0) throw_errno("TIOCSCTTY");
    for (int fd = 0; fd <= 2; ++fd)
        if (::dup2(slave, fd) < 0) throw_errno("dup2 the pty slave to fd " + std::to_string(fd));
}

void set_up_terminal_in_container(SyncChannel& channel, const std::optional<spec::ConsoleSize>& size,
                                  bool bind_dev_console) {
    Pty pty = open_container_pty(size);
    if (bind_dev_console) bind_console(pty);
    send_message(channel, ConsoleFdMessage{pty.master.get()});
    channel.expect(SyncType::console_taken);
    pty.master.reset();
    make_controlling_tty(pty.slave.get());
}

void send_console_master(const std::string& socket_path, int master) {
    std::string what = "--console-socket " + socket_path;
    // Any depth: containerd's and podman's sockets sit under long state dirs.
    UnixAddress address(socket_path);
    UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock) throw_errno(what + ": socket");
    if (retry_eintr([&] { return ::connect(sock.get(), address.get(), address.size()); }) != 0)
        throw_errno(what + ": connect");

    // Exactly runc's message: the name "/dev/ptmx" (9 bytes) and the fd.
    if (send_with_fd(sock.get(), "/dev/ptmx", master) < 0) throw_errno(what + ": sendmsg");
}

ConsoleReceiver::ConsoleReceiver() {
    char templ[] = "/tmp/tether-console.XXXXXX";
    if (!::mkdtemp(templ)) throw_errno("mkdtemp for the console socket");
    dir_ = templ;
    socket_path_ = dir_ + "/console.sock";
    listener_ = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!listener_) throw_errno("console socket");
    struct sockaddr_un address {};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, socket_path_.c_str(), socket_path_.size());
    if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
        throw_errno("bind " + socket_path_);
    if (::listen(listener_.get(), 1) != 0) throw_errno("listen " + socket_path_);
}

ConsoleReceiver::~ConsoleReceiver() {
    ::unlink(socket_path_.c_str());
    ::rmdir(dir_.c_str());
}

UniqueFd ConsoleReceiver::receive() {
    UniqueFd connection(retry_eintr([&] { return ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC); }));
    if (!connection) throw_errno("accept on " + socket_path_);
    char name[16];
    UniqueFd master;
    if (receive_with_fd(connection.get(), name, sizeof name, master) < 0) throw_errno("receive the pty master");
    if (!master) throw Error("the console socket message carried no pty master");
    return master;
}

int relay_terminal(int master, pid_t pid, int pidfd) {
    sigset_t handled;
    sigemptyset(&handled);
    for (int sig : {SIGWINCH, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCONT})
        sigaddset(&handled, sig);
    sigset_t previous;
    ::sigprocmask(SIG_BLOCK, &handled, &previous);
    UniqueFd signals(::signalfd(-1, &handled, SFD_CLOEXEC));
    if (!signals) throw_errno("signalfd");

    int status = 0;
    {
        RawTerminal raw(STDIN_FILENO);
        copy_window_size(STDIN_FILENO, master);
        ::fcntl(master, F_SETFL, ::fcntl(master, F_GETFL) | O_NONBLOCK);
        bool stdin_open = true, master_open = true;
        for (;;) {
            struct pollfd fds[4] = {{pidfd, POLLIN, 0},
                                    {signals.get(), POLLIN, 0},
                                    {master_open ? master : -1, POLLIN, 0},
                                    {stdin_open ? STDIN_FILENO : -1, POLLIN, 0}};
            if (::poll(fds, 4, -1) < 0) {
                if (errno == EINTR) continue;
                throw_errno("poll the terminal");
            }
            if (fds[1].revents & POLLIN) {
                struct signalfd_siginfo info;
                if (::read(signals.get(), &info, sizeof info) == sizeof info) {
                    if (info.ssi_signo == SIGWINCH)
                        copy_window_size(STDIN_FILENO, master);
                    else
                        ::syscall(SYS_pidfd_send_signal, pidfd, info.ssi_signo, nullptr, 0);
                }
            }
            if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) master_open = pump(master, STDOUT_FILENO);
            if (fds[3].revents & (POLLIN | POLLHUP | POLLERR)) stdin_open = pump(STDIN_FILENO, master);
            if (fds[0].revents & POLLIN) {
                // The process is gone: deliver what it wrote last.
                while (master_open && pump(master, STDOUT_FILENO)) {
                    struct pollfd more {master, POLLIN, 0};
                    if (::poll(&more, 1, 0) <= 0) break;
                }
                break;
            }
        }
        retry_eintr([&] { return ::waitpid(pid, &status, 0); });
    }
    ::sigprocmask(SIG_SETMASK, &previous, nullptr);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}

}  // namespace tether::os
