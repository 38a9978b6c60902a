#include "hooks/net/splice_relay.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "hooks/net/socket_util.hpp"
#include "runtime/core/error.hpp"

namespace tether::hooks {

SpliceRelay::SpliceRelay(EventLoop& loop, UniqueFd client, UniqueFd upstream, DoneCallback on_done,
                         std::string first_bytes_to_upstream, size_t pipe_capacity)
    : loop_(loop), client_(std::move(client)), upstream_(std::move(upstream)), on_done_(std::move(on_done)) {
    to_upstream_.src = client_.get();
    to_upstream_.dst = upstream_.get();
    to_upstream_.prefix = std::move(first_bytes_to_upstream);
    to_client_.src = upstream_.get();
    to_client_.dst = client_.get();
    make_pipe(to_upstream_, pipe_capacity);
    make_pipe(to_client_, pipe_capacity);
}

SpliceRelay::~SpliceRelay() {
    loop_.unwatch(client_token_);
    loop_.unwatch(upstream_token_);
}

void SpliceRelay::make_pipe(Direction& direction, size_t capacity) {
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) throw_errno("pipe2 for a relayed connection");
    direction.pipe_read.reset(fds[0]);
    direction.pipe_write.reset(fds[1]);
    // The kernel may round the size or refuse it (pipe-user-pages limits); use what we got.
    int actual = fcntl(fds[1], F_SETPIPE_SZ, static_cast<int>(capacity));
    if (actual < 0) actual = fcntl(fds[1], F_GETPIPE_SZ);
    direction.capacity = actual > 0 ? static_cast<size_t>(actual) : 65536;
}

void SpliceRelay::start() {
    client_token_ = loop_.watch(client_.get(), [this](uint32_t) { on_event(); });
    upstream_token_ = loop_.watch(upstream_.get(), [this](uint32_t) { on_event(); });
    on_event();
}

SpliceRelay::PumpResult SpliceRelay::pump(Direction& d) {
    constexpr unsigned kFlags = SPLICE_F_NONBLOCK | SPLICE_F_MOVE;
    for (;;) {
        bool progress = false;
        if (!d.prefix.empty()) {
            ssize_t n = send(d.dst, d.prefix.data(), d.prefix.size(), MSG_NOSIGNAL);
            if (n > 0) {
                d.prefix.erase(0, static_cast<size_t>(n));
                d.bytes += static_cast<uint64_t>(n);
                progress = true;
            } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                return PumpResult::failed;
            }
        }
        if (d.wants_read()) {
            ssize_t n = splice(d.src, nullptr, d.pipe_write.get(), nullptr, d.capacity - d.in_pipe, kFlags);
            if (n > 0) {
                d.in_pipe += static_cast<size_t>(n);
                progress = true;
            } else if (n == 0) {
                d.eof = true;
                progress = true;
            } else if (errno == EAGAIN) {
                // With data queued, EAGAIN may mean the pipe ran out of slots (skbs
                // use partial pages); wait for the writer instead of polling a
                // readable socket in a busy loop.
                if (d.in_pipe > 0) d.pipe_full = true;
            } else if (errno != EINTR) {
                return PumpResult::failed;
            }
        }
        if (d.in_pipe > 0 && d.prefix.empty()) {
            ssize_t n = splice(d.pipe_read.get(), nullptr, d.dst, nullptr, d.in_pipe, kFlags);
            if (n > 0) {
                d.in_pipe -= static_cast<size_t>(n);
                d.bytes += static_cast<uint64_t>(n);
                d.pipe_full = false;
                progress = true;
            } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                return PumpResult::failed;
            }
        }
        if (!progress) break;
    }
    if (d.eof && !d.wants_write() && !d.shut) {
        // Pass the FIN on only after the last byte: this is what makes half-close work.
        if (shutdown(d.dst, SHUT_WR) != 0 && errno != ENOTCONN) return PumpResult::failed;
        d.shut = true;
    }
    return PumpResult::ok;
}

void SpliceRelay::on_event() {
    if (finished_) return;
    if (pump(to_upstream_) == PumpResult::failed || pump(to_client_) == PumpResult::failed) {
        finish(true);
        return;
    }
    if (to_upstream_.done() && to_client_.done()) {
        finish(false);
        return;
    }
    update_interest();
}

void SpliceRelay::update_interest() {
    uint32_t client_events = (to_upstream_.wants_read() ? uint32_t{EPOLLIN} : 0u) | (to_client_.wants_write() ? uint32_t{EPOLLOUT} : 0u);
    uint32_t upstream_events = (to_client_.wants_read() ? uint32_t{EPOLLIN} : 0u) | (to_upstream_.wants_write() ? uint32_t{EPOLLOUT} : 0u);
    loop_.set_events(client_token_, client_events);
    loop_.set_events(upstream_token_, upstream_events);
}

void SpliceRelay::finish(bool reset) {
    finished_ = true;
    loop_.unwatch(client_token_);
    loop_.unwatch(upstream_token_);
    client_token_ = upstream_token_ = 0;
    if (reset) {
        // One side failed: the other must not mistake that for a clean end of stream.
        set_reset_on_close(client_.get());
        set_reset_on_close(upstream_.get());
    }
    client_.reset();
    upstream_.reset();
    to_upstream_.pipe_read.reset();
    to_upstream_.pipe_write.reset();
    to_client_.pipe_read.reset();
    to_client_.pipe_write.reset();
    RelayStats stats{to_upstream_.bytes, to_client_.bytes, reset};
    if (on_done_) on_done_(*this, stats);
}

}  // namespace tether::hooks
