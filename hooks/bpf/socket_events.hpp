// The reader of the socket programs' ring buffer: each event becomes a line
// of the decision log, the same line the seccomp supervisor writes for the
// same decision (syscall "connect", "bind" or "sendmsg": the kernel's hook
// does not know whether sendto, sendmsg or sendmmsg led there).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "hooks/bpf/socket_programs.hpp"
#include "hooks/common/decision_log.hpp"
#include "runtime/core/unique_fd.hpp"

namespace tether::hooks::bpf {

// Pure: one event as a decision line (time left for the log to fill).
Decision decision_from_event(const SocketEvent& event, const std::string& container_id);

// Moves the ring's consumer position to its producer's: what an earlier
// reader left is never read (a ring handed to a new container,
// container_slots.hpp). Nothing may write to the ring meanwhile.
void discard_ring_records(int ring_fd);

class SocketEventReader {
public:
    // `ring`: the BPF_MAP_TYPE_RINGBUF map of `size` bytes. Throws
    // tether::Error when it cannot be mapped.
    SocketEventReader(UniqueFd ring, uint32_t size, std::string container_id, std::shared_ptr<DecisionLog> log);
    ~SocketEventReader();
    SocketEventReader(const SocketEventReader&) = delete;
    SocketEventReader& operator=(const SocketEventReader&) = delete;

    // A thread that sleeps until the ring has a record (the kernel wakes it
    // for the first record after it has read everything), waits kBatchMs
    // so that the rest of a burst lands too, and reads. Idle, it costs
    // nothing (it used to wake every 5 ms); busy, at most one wake-up per
    // kBatchMs, and no call pays for more than one wake-up (issue 23).
    void start();
    // Logs every event written so far (FLUSH, and before the daemon exits).
    // Thread-safe. Returns how many were read.
    size_t drain();

    static constexpr int kBatchMs = 5;

private:
    void run();

    UniqueFd ring_;
    uint32_t size_;
    std::string container_id_;
    std::shared_ptr<DecisionLog> log_;
    void* consumer_ = nullptr;  // one page: consumer position (read-write)
    void* producer_ = nullptr;  // one page of producer position, then the data twice (read-only)
    size_t page_;
    std::mutex mutex_;
    std::atomic<bool> stop_{false};
    UniqueFd wake_;  // eventfd: stop
    std::thread thread_;
};

}  // namespace tether::hooks::bpf
