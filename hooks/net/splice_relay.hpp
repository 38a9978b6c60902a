// Relays bytes between two connected sockets in both directions, kernel to
// kernel with splice(2) through a pipe per direction, on the shared EventLoop.
//
// Contract:
// - Bounded: each direction holds at most one pipe of data. When the reader of
//   a direction is slow, the relay stops reading from the writer (it drops
//   EPOLLIN), so TCP flow control pushes back on the sender; memory never grows.
// - Half-close: EOF from one side becomes shutdown(SHUT_WR) on the other once
//   the pipe is flushed; the other direction keeps flowing, so a response sent
//   after the client's shutdown(SHUT_WR) arrives whole.
// - Errors: a reset or write error on either side closes both with RST
//   (SO_LINGER 0), so the peer sees ECONNRESET as it would from a real server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "hooks/net/event_loop.hpp"
#include "runtime/core/unique_fd.hpp"

namespace tether::hooks {

struct RelayStats {
    uint64_t bytes_client_to_upstream = 0;
    uint64_t bytes_upstream_to_client = 0;
    bool reset = false;  // ended by an error or RST rather than two clean EOFs
};

class SpliceRelay {
public:
    // 256 KiB per direction: enough to keep loopback throughput near direct, small
    // enough that 1000 connections stay well under a gigabyte in the worst case.
    static constexpr size_t kDefaultPipeCapacity = 256 * 1024;
    // Called once, from inside the relay's own event handler, when both sockets
    // are closed. Do not destroy the relay from it directly: EventLoop::post it.
    using DoneCallback = std::function<void(SpliceRelay& relay, const RelayStats&)>;

    // Takes both connected, non-blocking sockets. first_bytes_to_upstream (e.g.
    // what a client sent after its CONNECT line) is written before any relayed byte.
    SpliceRelay(EventLoop& loop, UniqueFd client, UniqueFd upstream, DoneCallback on_done,
                std::string first_bytes_to_upstream = {}, size_t pipe_capacity = kDefaultPipeCapacity);
    ~SpliceRelay();
    SpliceRelay(const SpliceRelay&) = delete;
    SpliceRelay& operator=(const SpliceRelay&) = delete;

    // Registers with the loop and moves whatever is already readable.
    void start();
    bool finished() const { return finished_; }
    // Bytes delivered so far, both directions: an owner's idle timeout
    // compares it between ticks instead of reading the clock per splice.
    uint64_t bytes_relayed() const { return to_upstream_.bytes + to_client_.bytes; }
    // Closes both sides now (FIN, or RST where input is unread) and runs
    // on_done as for any other end. For an owner's timeout.
    void close() {
        if (!finished_) finish(false);
    }

private:
    struct Direction {
        int src = -1;
        int dst = -1;
        UniqueFd pipe_read;
        UniqueFd pipe_write;
        size_t capacity = 0;
        size_t in_pipe = 0;
        std::string prefix;       // bytes to write to dst before the spliced ones
        bool pipe_full = false;   // splice into the pipe hit EAGAIN while data was queued
        bool eof = false;         // src sent FIN
        bool shut = false;        // we sent FIN to dst
        uint64_t bytes = 0;

        bool wants_read() const { return !eof && !pipe_full && in_pipe < capacity; }
        bool wants_write() const { return in_pipe > 0 || !prefix.empty(); }
        bool done() const { return shut; }
    };
    enum class PumpResult { ok, failed };

    static void make_pipe(Direction& direction, size_t capacity);
    static PumpResult pump(Direction& direction);
    void on_event();
    void update_interest();
    void finish(bool reset);

    EventLoop& loop_;
    UniqueFd client_;
    UniqueFd upstream_;
    DoneCallback on_done_;
    Direction to_upstream_;
    Direction to_client_;
    EventLoop::Token client_token_ = 0;
    EventLoop::Token upstream_token_ = 0;
    bool finished_ = false;
};

}  // namespace tether::hooks
