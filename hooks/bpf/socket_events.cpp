#include "hooks/bpf/socket_events.hpp"

#include <arpa/inet.h>
#include <linux/bpf.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "runtime/core/error.hpp"

namespace tether::hooks::bpf {
namespace {

const char* op_name(uint8_t op) {
    switch (static_cast<EventOp>(op)) {
        case EventOp::connect: return "connect";
        case EventOp::sendmsg: return "sendmsg";
        case EventOp::bind: return "bind";
    }
    return "unknown";
}

const char* verdict_name(uint8_t verdict) {
    switch (static_cast<EventVerdict>(verdict)) {
        case EventVerdict::allow: return "allow";
        case EventVerdict::deny: return "deny";
        case EventVerdict::audit_deny: return "audit-deny";
    }
    return "unknown";
}

}  // namespace

Decision decision_from_event(const SocketEvent& event, const std::string& container_id) {
    Decision d;
    d.container_id = container_id;
    d.pid = static_cast<int>(event.pid_tgid & 0xffffffffu);  // the thread, as the supervisor logs it
    d.comm.assign(event.comm, strnlen(event.comm, sizeof event.comm));
    d.syscall = op_name(event.op);
    char text[INET6_ADDRSTRLEN] = {};
    if (event.family == 4) {
        d.family = "inet";
        inet_ntop(AF_INET, event.address, text, sizeof text);
    } else {
        d.family = "inet6";
        inet_ntop(AF_INET6, event.address, text, sizeof text);
    }
    d.address = text;
    d.port = ntohs(static_cast<uint16_t>(event.port_be & 0xffff));
    d.verdict = verdict_name(event.verdict);
    if (event.rule >= 1 && event.rule <= kLastRule) {
        const RuleInfo& info = rule_info(static_cast<Rule>(event.rule));
        d.rule = info.name;
        d.annotation = info.annotation;
    } else {
        d.rule = "unknown-rule-" + std::to_string(event.rule);
    }
    return d;
}

SocketEventReader::SocketEventReader(UniqueFd ring, uint32_t size, std::string container_id,
                                     std::shared_ptr<DecisionLog> log)
    : ring_(std::move(ring)), size_(size), container_id_(std::move(container_id)), log_(std::move(log)) {
    page_ = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    consumer_ = ::mmap(nullptr, page_, PROT_READ | PROT_WRITE, MAP_SHARED, ring_.get(), 0);
    if (consumer_ == MAP_FAILED) throw_errno("mmap of the socket events' consumer page");
    // The data area is mapped twice in a row by the kernel, so that a record
    // that wraps around reads as one piece.
    producer_ = ::mmap(nullptr, page_ + 2 * size_t{size_}, PROT_READ, MAP_SHARED, ring_.get(),
                       static_cast<off_t>(page_));
    if (producer_ == MAP_FAILED) {
        int err = errno;
        ::munmap(consumer_, page_);
        throw Error("mmap of the socket events' ring", err);
    }
    wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake_) throw_errno("eventfd");
}

SocketEventReader::~SocketEventReader() {
    stop_ = true;
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_.get(), &one, sizeof one);
    if (thread_.joinable()) thread_.join();
    drain();
    ::munmap(producer_, page_ + 2 * size_t{size_});
    ::munmap(consumer_, page_);
}

void SocketEventReader::start() { thread_ = std::thread([this] { run(); }); }

size_t SocketEventReader::drain() {
    std::lock_guard lock(mutex_);
    auto* consumer_pos = static_cast<unsigned long*>(consumer_);
    auto* producer_pos = static_cast<unsigned long*>(producer_);
    const auto* data = static_cast<const uint8_t*>(producer_) + page_;
    const unsigned long mask = size_ - 1;
    unsigned long consumed = __atomic_load_n(consumer_pos, __ATOMIC_ACQUIRE);
    size_t count = 0;
    for (;;) {
        unsigned long produced = __atomic_load_n(producer_pos, __ATOMIC_ACQUIRE);
        if (consumed >= produced) break;
        bool progressed = false;
        while (consumed < produced) {
            const auto* header = data + (consumed & mask);
            uint32_t length = __atomic_load_n(reinterpret_cast<const uint32_t*>(header), __ATOMIC_ACQUIRE);
            if (length & BPF_RINGBUF_BUSY_BIT) break;  // still being written
            uint32_t payload = length & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
            consumed += (payload + BPF_RINGBUF_HDR_SZ + 7) & ~7UL;
            if (!(length & BPF_RINGBUF_DISCARD_BIT) && payload >= sizeof(SocketEvent)) {
                SocketEvent event;
                std::memcpy(&event, header + BPF_RINGBUF_HDR_SZ, sizeof event);
                Decision d = decision_from_event(event, container_id_);
                if (d.verdict == "allow") log_->write_soon(std::move(d));
                else log_->write(std::move(d));
                ++count;
            }
            __atomic_store_n(consumer_pos, consumed, __ATOMIC_RELEASE);
            progressed = true;
        }
        if (!progressed) break;
    }
    return count;
}

void SocketEventReader::run() {
    pollfd both[2] = {{ring_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    pollfd stop_only[1] = {{wake_.get(), POLLIN, 0}};
    while (!stop_) {
        // The ring is readable while it holds unread records: no timeout.
        if (::poll(both, 2, -1) < 0 && errno != EINTR) break;
        if (stop_) break;
        // Records written while we wait here do not wake anyone (we are
        // behind): a burst is read in one pass.
        ::poll(stop_only, 1, kBatchMs);
        if (stop_) break;
        drain();
    }
}

void discard_ring_records(int ring_fd) {
    const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    void* consumer = ::mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_SHARED, ring_fd, 0);
    if (consumer == MAP_FAILED) throw_errno("mmap of a ring's consumer page");
    // The producer position is on the first read-only page.
    void* producer = ::mmap(nullptr, page, PROT_READ, MAP_SHARED, ring_fd, static_cast<off_t>(page));
    if (producer == MAP_FAILED) {
        int err = errno;
        ::munmap(consumer, page);
        throw Error("mmap of a ring's producer page", err);
    }
    unsigned long produced = __atomic_load_n(static_cast<unsigned long*>(producer), __ATOMIC_ACQUIRE);
    __atomic_store_n(static_cast<unsigned long*>(consumer), produced, __ATOMIC_RELEASE);
    ::munmap(producer, page);
    ::munmap(consumer, page);
}

}  // namespace tether::hooks::bpf
