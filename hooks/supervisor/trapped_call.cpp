// One trapped socket call, from the notification to the reply.
//
// The order below is what makes the check binding (no TOCTOU):
//   1. pidfd for the calling thread (kept between calls: pidfd_cache.hpp);
//   2. copy every byte the decision needs (process_vm_readv) and take a
//      duplicate of the socket (pidfd_getfd); connect and bind copy their
//      address first, the sends take the socket first (what they copy
//      depends on its type);
//   3. SECCOMP_IOCTL_NOTIF_ID_VALID: the thread is still the one that made
//      the call, so the pidfd, the socket and the bytes are really its own.
//      Skipped when the socket came through a cached pidfd after every copy
//      was made: that already proves it (pidfd_cache.hpp);
//   4. decide on the socket's real domain and type and the copied address;
//   5. perform the call on the duplicate with the copied bytes and return the
//      kernel's result. The container's memory is never read again, so
//      rewriting the sockaddr after step 2 changes nothing.
// SECCOMP_USER_NOTIF_FLAG_CONTINUE (the kernel re-reads registers, memory
// and the fd table) is used only for sockets outside AF_INET/AF_INET6; see
// continue_other_family() for the residual risk.
#include "hooks/supervisor/trapped_call.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include "hooks/supervisor/decision.hpp"
#include "hooks/supervisor/pidfd_cache.hpp"
#include "hooks/supervisor/socket_ring.hpp"
#include "hooks/supervisor/supervisor_state.hpp"
#include "hooks/supervisor/target_process.hpp"

namespace tether::hooks {
namespace {

// A stream send is performed in pieces of at most this size (a partial write
// is legal for stream sockets); a larger datagram gets EMSGSIZE (UDP's own
// limit is 64 KiB, so nothing legitimate is refused).
constexpr size_t kMaxPayload = 256 * 1024;
constexpr size_t kMaxControl = 64 * 1024;
constexpr size_t kMaxIovecs = 1024;  // UIO_MAXIOV, as the kernel limits it

struct ReplyError {
    int error;
};
struct Abandon {};  // the caller is gone: there is nobody to answer

struct Reply {
    bool continue_call = false;
    int64_t value = 0;
    int error = 0;
};

Reply reply_result(ssize_t rc) {
    Reply r;
    if (rc < 0) r.error = errno;
    else r.value = rc;
    return r;
}

void send_reply(int listener, uint64_t id, const Reply& r) {
    seccomp_notif_resp resp{};
    resp.id = id;
    if (r.continue_call) resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    else if (r.error) resp.error = -r.error;
    else resp.val = r.value;
    // ENOENT: the caller was killed meanwhile; nothing is waiting.
    ::ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

std::string family_name(int domain) {
    switch (domain) {
        case AF_INET: return "inet";
        case AF_INET6: return "inet6";
        case AF_UNIX: return "unix";
        case AF_NETLINK: return "netlink";
        case AF_PACKET: return "packet";
        case AF_VSOCK: return "vsock";
        case AF_ALG: return "alg";
        default: return "family-" + std::to_string(domain);
    }
}

const char* syscall_name(int nr) {
    switch (nr) {
        case SYS_connect: return "connect";
        case SYS_bind: return "bind";
        case SYS_sendto: return "sendto";
        case SYS_sendmsg: return "sendmsg";
        case SYS_sendmmsg: return "sendmmsg";
        default: return "unknown";
    }
}

struct SocketInfo {
    int domain = 0;
    int type = 0;
    int status_flags = 0;  // F_GETFL of the open file description
    bool nonblocking = false;
};

// A message as copied out of the container, ready to send from here.
struct OutgoingMessage {
    bool has_name = false;
    std::vector<uint8_t> name;
    std::vector<uint8_t> payload;
    std::vector<uint8_t> control;
};

class TrappedCall {
public:
    TrappedCall(std::shared_ptr<SupervisorState> state, const seccomp_notif& n) : state_(std::move(state)), n_(n) {}

    pid_t tid() const { return static_cast<pid_t>(n_.pid); }
    uint64_t arg(int i) const { return n_.data.args[i]; }
    int syscall_nr() const { return n_.data.nr; }
    const char* name() const { return syscall_name(n_.data.nr); }
    SupervisorState& state() { return *state_; }
    int pidfd() const { return target_.pidfd; }

    void open_target() {
        target_ = state_->pidfds.get(tid());
        if (target_.pidfd < 0) throw Abandon{};
    }

    UniqueFd take_socket(int target_fd, SocketInfo& info) {
        UniqueFd fd = take_target_fd(target_.pidfd, target_fd);
        taken_through_cache_ = fd && target_.cached;
        socket_taken_ = true;
        if (!fd && target_.cached) {
            // Perhaps a stale entry (its thread exited, the tid was reused):
            // once more with a fresh pidfd, as if nothing had been cached.
            target_ = state_->pidfds.reopen(tid());
            if (target_.pidfd < 0) throw Abandon{};
            fd = take_target_fd(target_.pidfd, target_fd);
        }
        if (!fd) throw ReplyError{errno == ESRCH ? EBADF : errno};
        socket_fd_ = target_fd;
        read_kind(fd.get(), info);
        int flags = ::fcntl(fd.get(), F_GETFL);
        info.status_flags = flags;
        info.nonblocking = flags >= 0 && (flags & O_NONBLOCK);
        return fd;
    }

    // The socket again, after the one taken first was given away (the
    // ring closes its duplicate): the caller still waits, so its fd table
    // still holds it.
    UniqueFd retake_socket() {
        UniqueFd fd = take_target_fd(target_.pidfd, socket_fd_);
        if (!fd) throw ReplyError{errno == ESRCH ? EBADF : errno};
        return fd;
    }

    std::vector<uint8_t> read_bytes(uint64_t address, size_t length) {
        read_after_take_ = read_after_take_ || socket_taken_;
        std::vector<uint8_t> bytes(length);
        if (!read_target_memory(tid(), address, bytes.data(), length)) throw ReplyError{EFAULT};
        return bytes;
    }

    template <typename T>
    T read_value(uint64_t address) {
        read_after_take_ = read_after_take_ || socket_taken_;
        T value;
        if (!read_target_memory(tid(), address, &value, sizeof value)) throw ReplyError{EFAULT};
        return value;
    }

    // Step 3: everything read so far belongs to the thread that is waiting.
    void confirm_pending() {
        // pidfd_getfd through a cached pidfd succeeded after every copy:
        // the thread lived, and held its tid, from the notification until
        // then (pidfd_cache.hpp).
        if (taken_through_cache_ && !read_after_take_) return;
        uint64_t id = n_.id;
        if (::ioctl(state_->listener.get(), SECCOMP_IOCTL_NOTIF_ID_VALID, &id) != 0) throw Abandon{};
    }

    void reply(const Reply& r) { send_reply(state_->listener.get(), n_.id, r); }

    // Runs `work` (a blocking call) on its own thread and replies from
    // there, so that a connect to a peer that never answers stalls only the
    // thread that asked for it.
    template <typename Work>
    void reply_from_worker(Work work) {
        auto state = state_;
        uint64_t id = n_.id;
        state->busy_workers++;
        try {
            std::thread([state, id, work = std::move(work)]() mutable {
                send_reply(state->listener.get(), id, work());
                state->busy_workers--;
            }).detach();
        } catch (const std::system_error&) {
            state->busy_workers--;
            reply(Reply{.error = EAGAIN});
        }
    }

    // Steps 4 and logging: true when the call may go ahead (allowed, or
    // audit mode).
    bool decide_and_log(const SocketInfo& info, Operation operation, const Endpoint& destination, Verdict& verdict) {
        DecisionRequest request;
        request.operation = operation;
        request.socket_type = info.type;
        request.destination = destination;
        Endpoint normal = normalise(destination);
        if (operation == Operation::bind && normal.port != 0 && normal.port < 1024)
            request.caller_may_bind_privileged_ports = target_has_net_bind_service(tid());
        {
            std::lock_guard lock(state_->bound_ports_mutex);
            request.sandbox_bound_ports = &state_->bound_ports;
            verdict = decide(state_->policy, request);
        }
        bool proceed = verdict.allowed || state_->policy.audit;
        // No strings are built for a log that is off (the allow path is hot).
        if (state_->log)
            log(family_name(info.domain), address_text(destination), destination.port,
                verdict.allowed ? "allow" : (state_->policy.audit ? "audit-deny" : "deny"), verdict.rule,
                verdict.annotation);
        return proceed;
    }

    void log(const std::string& family, const std::string& address, uint16_t port, const char* verdict,
             const std::string& rule, const std::string& annotation) {
        if (!state_->log) return;
        Decision d;
        d.container_id = state_->container_id;
        d.pid = tid();
        d.comm = state_->comms.get(tid());
        d.syscall = name();
        d.family = family;
        d.address = address;
        d.port = port;
        d.verdict = verdict;
        d.rule = rule;
        d.annotation = annotation;
        // Allowed calls are the hot path: their lines may wait a few ms to
        // be written together. A denial is written at once.
        if (d.verdict == "allow") state_->log->write_soon(std::move(d));
        else state_->log->write(std::move(d));
    }

private:
    std::shared_ptr<SupervisorState> state_;
    seccomp_notif n_;
    PidfdCache::Lookup target_;
    // SO_DOMAIN and SO_TYPE, through the ring when it can.
    void read_kind(int fd, SocketInfo& info) {
        if (SocketRing* ring = state_->socket_ring(); ring && ring->has_getsockopt()) {
            try {
                SocketRing::SocketKind kind = ring->domain_and_type(fd);
                if (!kind.error) {
                    info.domain = kind.domain;
                    info.type = kind.type;
                    return;
                }
                // No socket (io_uring says EOPNOTSUPP): the plain calls
                // below give the caller the kernel's own error, ENOTSOCK.
            } catch (const std::system_error&) {
                state_->ring.reset();  // unusable: plain syscalls from now on
            }
        }
        int value = 0;
        socklen_t length = sizeof value;
        if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &value, &length) != 0) throw ReplyError{errno};
        info.domain = value;
        length = sizeof value;
        if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &value, &length) != 0) throw ReplyError{errno};
        info.type = value;
    }

    int socket_fd_ = -1;  // the caller's fd number
    bool socket_taken_ = false;
    bool taken_through_cache_ = false;  // the first pidfd_getfd, through a cached pidfd, succeeded
    bool read_after_take_ = false;      // some byte was copied after the socket was taken
};

// The address argument of connect and bind (args 1 and 2), copied before
// the socket is taken (step 2). A bad length or a fault is answered only
// after the fd has been checked, in the kernel's order (EBADF first).
struct CopiedAddress {
    std::vector<uint8_t> bytes;
    int error = 0;
};

CopiedAddress copy_address_argument(TrappedCall& call) {
    auto length = static_cast<int64_t>(static_cast<int>(call.arg(2)));
    if (length < 0 || length > static_cast<int64_t>(sizeof(sockaddr_storage))) return {{}, EINVAL};
    try {
        return {call.read_bytes(call.arg(1), static_cast<size_t>(length)), 0};
    } catch (const ReplyError& e) {
        return {{}, e.error};
    }
}

// AF_UNIX, AF_NETLINK and AF_ALG carry no network destination the policy
// governs, and the supervisor cannot perform them itself: a unix path must
// be resolved in the container's mount namespace and root (doing it from
// here, through /proc/<pid>/root, would follow the container's absolute
// symlinks on the host), and a netlink bind checks CAP_NET_ADMIN of the
// caller, which the supervisor (root) would grant. So the kernel continues
// the call. Residual risk: the kernel re-reads the fd table when it
// continues, so a second thread that dup2()s an inet socket onto the same fd
// number in that window gets one undecided call. Landlock's TCP port rules
// remain as the second layer for that case.
void continue_other_family(TrappedCall& call, const SocketInfo& info) {
    if (info.domain == AF_UNIX || info.domain == AF_NETLINK || info.domain == AF_ALG) {
        call.reply(Reply{.continue_call = true});
        return;
    }
    // Packet, vsock, bluetooth...: reach past the policy entirely.
    bool audit = call.state().policy.audit;
    call.log(family_name(info.domain), "", 0, audit ? "audit-deny" : "deny", "socket-family-not-supervised", "");
    call.reply(audit ? Reply{.continue_call = true} : Reply{.error = EACCES});
}

int connect_to(int fd, const std::vector<uint8_t>& address) {
    return ::connect(fd, reinterpret_cast<const sockaddr*>(address.data()), static_cast<socklen_t>(address.size()));
}

Reply do_connect(int fd, const std::vector<uint8_t>& address) { return reply_result(connect_to(fd, address)); }

// Sets O_NONBLOCK on the (shared) open file description for its lifetime and
// puts the caller's flags back.
class NonBlockingWindow {
public:
    NonBlockingWindow(int fd, int flags) : fd_(fd), flags_(flags) {
        active_ = flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
    }
    ~NonBlockingWindow() {
        if (active_) {
            int saved = errno;
            ::fcntl(fd_, F_SETFL, flags_);
            errno = saved;
        }
    }
    bool active() const { return active_; }
    NonBlockingWindow(const NonBlockingWindow&) = delete;
    NonBlockingWindow& operator=(const NonBlockingWindow&) = delete;

private:
    int fd_;
    int flags_;
    bool active_ = false;
};

// A blocking connect usually completes without sleeping (loopback: a server
// in the container, the bridge's listeners, the proxy), but whether it will
// wait cannot be known before trying, and handing every blocking connect to
// a new thread cost more than the connect itself (docs/benchmarks.md). So the
// supervisor first tries without waiting: O_NONBLOCK is set on the file
// description for two connect calls (the first sends the SYN and, on
// loopback, returns EINPROGRESS with the handshake already done; the second
// collects the result: 0, the error, or EALREADY while still in progress),
// then the caller's flags are restored. Only a connect still in progress
// goes to a worker, whose blocking connect waits for it exactly as the
// caller's would have (SO_SNDTIMEO included). The address is the one copied
// and decided; a call on a connecting socket ignores it anyway.
// Residual: the file description is shared with the container, so during
// those microseconds another of its threads would see O_NONBLOCK in F_GETFL
// or EAGAIN from a blocking read on this still-connecting socket, and an
// F_SETFL it makes in the window is overwritten. Its own socket's flags only;
// no decision depends on them.
struct ConnectAttempt {
    std::optional<Reply> done;  // nothing: still in progress, a worker waits
    bool started_here = false;  // this call sent the SYN (else the caller's earlier one did)
};

ConnectAttempt connect_without_waiting(int fd, int status_flags, const std::vector<uint8_t>& address) {
    NonBlockingWindow window(fd, status_flags);
    if (!window.active()) return {};
    int rc = connect_to(fd, address);
    if (rc == 0 || (errno != EINPROGRESS && errno != EALREADY)) return {reply_result(rc), false};
    // EALREADY: the caller's earlier connect (timed out by SO_SNDTIMEO) is
    // still in progress; a blocking call waits for it.
    bool started_here = errno == EINPROGRESS;
    rc = connect_to(fd, address);
    if (rc != 0 && errno == EALREADY) return {std::nullopt, started_here};
    return {reply_result(rc), started_here};
}

// The same first attempt through io_uring, which leaves the file's flags
// alone and closes the duplicate in the same syscall (socket_ring.hpp). The
// ring takes `socket`; a connect left in progress needs call.retake_socket().
// Nothing when there is no ring (`socket` untouched) or it failed (`socket`
// retaken): the caller falls back to connect_without_waiting().
std::optional<ConnectAttempt> connect_through_ring(TrappedCall& call, UniqueFd& socket,
                                                   const std::vector<uint8_t>& address) {
    SocketRing* ring = call.state().socket_ring();
    if (!ring) return std::nullopt;
    SocketRing::ConnectResult result;
    try {
        result = ring->connect_and_close(socket.release(), reinterpret_cast<const sockaddr*>(address.data()),
                                         static_cast<socklen_t>(address.size()));
    } catch (const std::system_error&) {
        // The ring is in an unknown state: plain syscalls from now on. A SYN
        // it may have sent makes the fallback's connect say EALREADY and
        // wait for that attempt, as for any connect already in progress.
        call.state().ring.reset();
        socket = call.retake_socket();
        return std::nullopt;
    }
    if (!result) return ConnectAttempt{std::nullopt, true};
    // The caller's earlier connect (timed out by SO_SNDTIMEO) is still in
    // progress; a blocking call waits for it.
    if (*result == -EALREADY) return ConnectAttempt{std::nullopt, false};
    Reply reply;
    if (*result < 0) reply.error = -*result;
    return ConnectAttempt{reply, true};
}

// The worker's blocking connect on a socket the first attempt left
// connecting. When it times out (SO_SNDTIMEO) the kernel says EALREADY, but
// the caller made one call on an unconnected socket, for which it says
// EINPROGRESS.
Reply wait_for_connect(int fd, const std::vector<uint8_t>& address, bool started_here) {
    Reply r = do_connect(fd, address);
    if (started_here && r.error == EALREADY) r.error = EINPROGRESS;
    return r;
}

void handle_connect(TrappedCall& call, UniqueFd socket, const SocketInfo& info, CopiedAddress copied) {
    if (copied.error) throw ReplyError{copied.error};
    std::vector<uint8_t> address = std::move(copied.bytes);
    call.confirm_pending();

    ParsedAddress parsed = parse_socket_address(info.domain, AddressUse::connect, address);
    if (auto* refusal = std::get_if<Refusal>(&parsed)) throw ReplyError{refusal->error};
    if (auto* destination = std::get_if<Endpoint>(&parsed)) {
        Verdict verdict;
        if (!call.decide_and_log(info, Operation::connect, *destination, verdict))
            throw ReplyError{verdict.deny_errno};
    }
    // Non-blocking sockets: EINPROGRESS (or 0) comes back at once, as without
    // the supervisor. A datagram connect only records the peer: it never
    // waits.
    if (info.nonblocking || info.type != SOCK_STREAM) {
        call.reply(do_connect(socket.get(), address));
        return;
    }
    std::optional<ConnectAttempt> through_ring = connect_through_ring(call, socket, address);
    ConnectAttempt attempt =
        through_ring ? std::move(*through_ring) : connect_without_waiting(socket.get(), info.status_flags, address);
    if (attempt.done) {
        call.reply(*attempt.done);
        return;
    }
    if (!socket) socket = call.retake_socket();
    call.reply_from_worker([socket = std::move(socket), address = std::move(address), attempt] {
        return wait_for_connect(socket.get(), address, attempt.started_here);
    });
}

void rewrite_bind_address(std::vector<uint8_t>& address, const Endpoint& narrowed) {
    if (narrowed.family == AF_INET) {
        sockaddr_in sin;
        std::memcpy(&sin, address.data(), sizeof sin);
        sin.sin_family = AF_INET;  // AF_UNSPEC is accepted only with INADDR_ANY
        std::memcpy(&sin.sin_addr, narrowed.bytes.data(), 4);
        std::memcpy(address.data(), &sin, sizeof sin);
    } else {
        std::memcpy(address.data() + offsetof(sockaddr_in6, sin6_addr), narrowed.bytes.data(), 16);
    }
}

uint16_t bound_port(int fd) {
    sockaddr_storage ss{};
    socklen_t length = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &length) != 0) return 0;
    if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
    return 0;
}

void handle_bind(TrappedCall& call, UniqueFd socket, const SocketInfo& info, CopiedAddress copied) {
    if (copied.error) throw ReplyError{copied.error};
    std::vector<uint8_t> address = std::move(copied.bytes);
    call.confirm_pending();

    ParsedAddress parsed = parse_socket_address(info.domain, AddressUse::bind, address);
    if (auto* refusal = std::get_if<Refusal>(&parsed)) throw ReplyError{refusal->error};
    auto* at = std::get_if<Endpoint>(&parsed);
    if (!at) throw ReplyError{EAFNOSUPPORT};
    Verdict verdict;
    if (!call.decide_and_log(info, Operation::bind, *at, verdict)) throw ReplyError{verdict.deny_errno};
    if (verdict.bind_instead) rewrite_bind_address(address, *verdict.bind_instead);

    int rc = ::bind(socket.get(), reinterpret_cast<const sockaddr*>(address.data()),
                    static_cast<socklen_t>(address.size()));
    Reply reply = reply_result(rc);
    if (rc == 0) {
        if (uint16_t port = bound_port(socket.get())) {
            std::lock_guard lock(call.state().bound_ports_mutex);
            call.state().bound_ports.insert(port);
        }
    }
    call.reply(reply);
}

// Copies the payload of `iovecs` (at most kMaxPayload bytes).
std::vector<uint8_t> read_payload(TrappedCall& call, const std::vector<iovec>& iovecs, bool stream) {
    size_t total = 0;
    for (const auto& v : iovecs) total += v.iov_len;
    if (!stream && total > kMaxPayload) throw ReplyError{EMSGSIZE};
    std::vector<uint8_t> payload;
    payload.reserve(std::min(total, kMaxPayload));
    for (const auto& v : iovecs) {
        size_t take = std::min(v.iov_len, kMaxPayload - payload.size());
        auto part = call.read_bytes(reinterpret_cast<uintptr_t>(v.iov_base), take);
        payload.insert(payload.end(), part.begin(), part.end());
        if (payload.size() == kMaxPayload) break;
    }
    return payload;
}

OutgoingMessage read_message(TrappedCall& call, const msghdr& header, bool stream) {
    OutgoingMessage message;
    if (header.msg_name && header.msg_namelen > 0) {
        // ____sys_sendmsg clamps an oversized msg_namelen the same way.
        size_t length = std::min<size_t>(header.msg_namelen, sizeof(sockaddr_storage));
        message.has_name = true;
        message.name = call.read_bytes(reinterpret_cast<uintptr_t>(header.msg_name), length);
    }
    if (header.msg_iovlen > kMaxIovecs) throw ReplyError{EMSGSIZE};
    std::vector<iovec> iovecs(header.msg_iovlen);
    if (!iovecs.empty()) {
        auto raw = call.read_bytes(reinterpret_cast<uintptr_t>(header.msg_iov), iovecs.size() * sizeof(iovec));
        std::memcpy(iovecs.data(), raw.data(), raw.size());
    }
    message.payload = read_payload(call, iovecs, stream);
    if (header.msg_control && header.msg_controllen > 0) {
        if (header.msg_controllen > kMaxControl) throw ReplyError{ENOBUFS};
        message.control = call.read_bytes(reinterpret_cast<uintptr_t>(header.msg_control), header.msg_controllen);
    }
    return message;
}

// Decides the destination of one message. Returns false (error set) when
// the message must not be sent.
bool check_message(TrappedCall& call, const SocketInfo& info, OutgoingMessage& message, int flags, int& error) {
    if (!message.has_name) return true;  // the connected peer, decided at connect
    if (info.type == SOCK_STREAM && !(flags & MSG_FASTOPEN)) {
        // TCP ignores the name unless MSG_FASTOPEN; drop it so that no
        // undecided address ever reaches the kernel.
        message.has_name = false;
        message.name.clear();
        return true;
    }
    ParsedAddress parsed = parse_socket_address(info.domain, AddressUse::send, message.name);
    if (auto* refusal = std::get_if<Refusal>(&parsed)) {
        error = refusal->error;
        return false;
    }
    if (auto* destination = std::get_if<Endpoint>(&parsed)) {
        Verdict verdict;
        Operation operation = info.type == SOCK_STREAM ? Operation::connect : Operation::send;
        if (!call.decide_and_log(info, operation, *destination, verdict)) {
            error = verdict.deny_errno;
            return false;
        }
    }
    return true;
}

ssize_t send_message(int fd, int pidfd, OutgoingMessage& message, int flags) {
    iovec iov{message.payload.data(), message.payload.size()};
    msghdr header{};
    header.msg_name = message.has_name ? message.name.data() : nullptr;
    header.msg_namelen = message.has_name ? static_cast<socklen_t>(message.name.size()) : 0;
    header.msg_iov = &iov;
    header.msg_iovlen = 1;
    header.msg_control = message.control.empty() ? nullptr : message.control.data();
    header.msg_controllen = message.control.size();
    // SIGPIPE belongs to the caller, not to the supervisor.
    ssize_t n = ::sendmsg(fd, &header, flags | MSG_NOSIGNAL);
    if (n < 0 && errno == EPIPE && !(flags & MSG_NOSIGNAL)) {
        ::syscall(SYS_pidfd_send_signal, pidfd, SIGPIPE, nullptr, 0);
        errno = EPIPE;
    }
    return n;
}

// sendto and sendmsg: one message.
void perform_send(TrappedCall& call, UniqueFd socket, const SocketInfo& info, OutgoingMessage message, int flags) {
    call.confirm_pending();
    int error = 0;
    if (!check_message(call, info, message, flags, error)) throw ReplyError{error};
    bool may_block = !info.nonblocking && !(flags & MSG_DONTWAIT);
    if (!may_block || info.type == SOCK_DGRAM) {
        // A datagram send blocks only while the socket buffer drains.
        call.reply(reply_result(send_message(socket.get(), call.pidfd(), message, flags)));
        return;
    }
    UniqueFd pidfd(::fcntl(call.pidfd(), F_DUPFD_CLOEXEC, 0));
    call.reply_from_worker([socket = std::move(socket), pidfd = std::move(pidfd), message = std::move(message),
                            flags]() mutable {
        return reply_result(send_message(socket.get(), pidfd.get(), message, flags));
    });
}

void handle_sendto(TrappedCall& call, UniqueFd socket, const SocketInfo& info) {
    auto flags = static_cast<int>(call.arg(3));
    auto length = static_cast<int64_t>(static_cast<int>(call.arg(5)));
    OutgoingMessage message;
    if (call.arg(4) != 0) {
        if (length < 0 || length > static_cast<int64_t>(sizeof(sockaddr_storage))) throw ReplyError{EINVAL};
        message.has_name = true;
        message.name = call.read_bytes(call.arg(4), static_cast<size_t>(length));
    }
    std::vector<iovec> one{{reinterpret_cast<void*>(static_cast<uintptr_t>(call.arg(1))), static_cast<size_t>(call.arg(2))}};
    message.payload = read_payload(call, one, info.type == SOCK_STREAM);
    perform_send(call, std::move(socket), info, std::move(message), flags);
}

void handle_sendmsg(TrappedCall& call, UniqueFd socket, const SocketInfo& info) {
    auto header = call.read_value<msghdr>(call.arg(1));
    OutgoingMessage message = read_message(call, header, info.type == SOCK_STREAM);
    perform_send(call, std::move(socket), info, std::move(message), static_cast<int>(call.arg(2)));
}

// sendmmsg: the messages go out one by one, each decided on its own; like
// the kernel, the count of sent messages is returned once one has gone out,
// the error otherwise, and msg_len is written back for each sent message.
void handle_sendmmsg(TrappedCall& call, UniqueFd socket, const SocketInfo& info) {
    uint64_t vector = call.arg(1);
    auto count = std::min<uint64_t>(static_cast<unsigned>(call.arg(2)), kMaxIovecs);
    auto flags = static_cast<int>(call.arg(3));
    std::vector<OutgoingMessage> messages;
    for (uint64_t i = 0; i < count; ++i) {
        auto header = call.read_value<mmsghdr>(vector + i * sizeof(mmsghdr));
        messages.push_back(read_message(call, header.msg_hdr, info.type == SOCK_STREAM));
    }
    call.confirm_pending();
    int64_t sent = 0;
    int error = 0;
    for (auto& message : messages) {
        if (!check_message(call, info, message, flags, error)) break;
        ssize_t n = send_message(socket.get(), call.pidfd(), message, flags);
        if (n < 0) {
            error = errno;
            break;
        }
        auto length = static_cast<unsigned>(n);
        write_target_memory(call.tid(), vector + sent * sizeof(mmsghdr) + offsetof(mmsghdr, msg_len), &length,
                            sizeof length);
        ++sent;
    }
    call.reply(sent > 0 || error == 0 ? Reply{.value = sent} : Reply{.error = error});
}

void dispatch(TrappedCall& call) {
    call.open_target();
    CopiedAddress address;
    bool takes_address = call.syscall_nr() == SYS_connect || call.syscall_nr() == SYS_bind;
    if (takes_address) address = copy_address_argument(call);
    SocketInfo info;
    UniqueFd socket = call.take_socket(static_cast<int>(call.arg(0)), info);
    if (info.domain != AF_INET && info.domain != AF_INET6) {
        call.confirm_pending();
        continue_other_family(call, info);
        return;
    }
    switch (call.syscall_nr()) {
        case SYS_connect: return handle_connect(call, std::move(socket), info, std::move(address));
        case SYS_bind: return handle_bind(call, std::move(socket), info, std::move(address));
        case SYS_sendto: return handle_sendto(call, std::move(socket), info);
        case SYS_sendmsg: return handle_sendmsg(call, std::move(socket), info);
        case SYS_sendmmsg: return handle_sendmmsg(call, std::move(socket), info);
        default: throw ReplyError{ENOSYS};
    }
}

}  // namespace

void handle_notification(const std::shared_ptr<SupervisorState>& state, const seccomp_notif& notification) {
    TrappedCall call(state, notification);
    try {
        dispatch(call);
    } catch (const ReplyError& e) {
        call.reply(Reply{.error = e.error});
    } catch (const Abandon&) {
        // The caller died or was killed: the kernel already finished its call.
    } catch (const std::exception&) {
        // Out of memory and the like: fail the one call, keep serving.
        call.reply(Reply{.error = ENOMEM});
    }
}

}  // namespace tether::hooks
