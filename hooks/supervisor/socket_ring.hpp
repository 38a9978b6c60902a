// io_uring for the supervisor's hot path: fewer syscalls per trapped call.
// On the paravirtualised machines we measure on every syscall costs over a
// microsecond, and a supervised connect was mostly syscalls
// (docs/benchmarks.md). Two batches:
//
// domain_and_type(): SO_DOMAIN and SO_TYPE of the duplicated socket in one
// io_uring_enter (SOCKET_URING_OP_GETSOCKOPT, Linux 6.7) instead of two
// getsockopt calls.
//
// connect_and_close(): a blocking connect performed without waiting and
// without touching the socket's flags, followed by the close of the
// duplicate, in one io_uring_enter. The supervisor performs every allowed
// connect itself. A blocking connect usually completes at once (loopback: a
// server in the container, the bridge's listeners, the proxy), but whether
// it will wait cannot be known before trying, and the loop thread must never
// wait (a peer that does not answer would stall every other call of the
// container). IORING_OP_CONNECT first tries with O_NONBLOCK passed to the
// socket's connect for that one call only: the file's flags, which the
// container shares, stay as they are. On loopback the handshake is done
// before the syscall returns, so one io_uring_enter replaces the five calls
// of the fallback (F_SETFL O_NONBLOCK, connect, connect, F_SETFL back,
// close; trapped_call.cpp), whose O_NONBLOCK another thread of the container
// could see for a moment. A connect still in progress is cancelled, to be
// waited for by a blocking connect on a worker thread (which honours the
// caller's SO_SNDTIMEO as its own call would).
//
// Used by the supervisor's loop thread only. open() returns null where
// io_uring is missing or disabled (kernel.io_uring_disabled, a seccomp
// profile, TETHER_NETD_IO_URING=0 in tether-netd's environment) or lacks the
// operations connect_and_close() needs (Linux 5.17); the supervisor then
// uses plain syscalls.
#pragma once

#include <sys/socket.h>

struct io_uring_sqe;

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "runtime/core/unique_fd.hpp"

namespace tether::hooks {

class SocketRing {
public:
    static std::unique_ptr<SocketRing> open();
    ~SocketRing();
    SocketRing(const SocketRing&) = delete;
    SocketRing& operator=(const SocketRing&) = delete;

    // false before Linux 6.7: domain_and_type() is not available.
    bool has_getsockopt() const { return has_getsockopt_; }
    // (SO_DOMAIN, SO_TYPE), or a negative errno in `error`. Throws
    // std::system_error when the ring itself fails.
    struct SocketKind {
        int domain = 0;
        int type = 0;
        int error = 0;
    };
    SocketKind domain_and_type(int fd);

    // The connect's result: 0 or a negative errno, as the kernel answers
    // one attempt that does not wait (never EINPROGRESS). Empty: still in
    // progress, cancelled; the socket is connecting and a blocking connect
    // waits for it.
    using ConnectResult = std::optional<int>;
    // Connects `fd` to `address` and closes `fd`, which the ring owns from
    // now on (also when this throws: it may or may not have been closed by
    // then, so nobody may close it again). Throws std::system_error when
    // the ring itself fails.
    ConnectResult connect_and_close(int fd, const sockaddr* address, socklen_t length);

private:
    struct Mapped;
    SocketRing(UniqueFd ring, std::unique_ptr<Mapped> mapped);
    ::io_uring_sqe* next_sqe();
    // Submits `to_submit` queued entries and waits for `wait_for`
    // completions; reaps every completion into mapped_->reaped.
    void enter(unsigned to_submit, unsigned wait_for);
    std::optional<int> take(uint64_t tag);
    int wait_for(uint64_t tag);

    UniqueFd ring_;
    std::unique_ptr<Mapped> mapped_;
    uint64_t next_tag_ = 1;
    bool has_getsockopt_ = false;
};

}  // namespace tether::hooks
