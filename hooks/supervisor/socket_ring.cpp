#include "hooks/supervisor/socket_ring.hpp"

#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace tether::hooks {

namespace {

constexpr unsigned kEntries = 8;

// user_data of the entries that go with a connect's: its close (whose
// failure completion is dropped) and its cancellation.
constexpr uint64_t kCloseBit = uint64_t{1} << 62;
constexpr uint64_t kCancelBit = uint64_t{1} << 63;

// SOCKET_URING_OP_GETSOCKOPT (Linux 6.7); the installed headers are older.
// The entry reuses fields of io_uring_sqe: cmd_op, then level and optname
// where `addr` is, optlen where `splice_fd_in` is, optval where `addr3` is.
constexpr uint32_t kSocketUringOpGetsockopt = 2;

int io_uring_setup(unsigned entries, io_uring_params* params) {
    return static_cast<int>(::syscall(SYS_io_uring_setup, entries, params));
}

int io_uring_enter(int ring, unsigned to_submit, unsigned min_complete, unsigned flags) {
    return static_cast<int>(::syscall(SYS_io_uring_enter, ring, to_submit, min_complete, flags, nullptr, 0));
}

bool supports(int ring, std::initializer_list<int> ops) {
    size_t size = sizeof(io_uring_probe) + 256 * sizeof(io_uring_probe_op);
    std::vector<unsigned char> buffer(size, 0);
    auto* probe = reinterpret_cast<io_uring_probe*>(buffer.data());
    if (::syscall(SYS_io_uring_register, ring, IORING_REGISTER_PROBE, probe, 256) != 0) return false;
    for (int op : ops)
        if (op > probe->last_op || !(probe->ops[op].flags & IO_URING_OP_SUPPORTED)) return false;
    return true;
}

struct Mapping {
    void* address = MAP_FAILED;
    size_t length = 0;
    Mapping() = default;
    Mapping(int fd, size_t size, off_t offset)
        : address(::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, offset)),
          length(size) {}
    Mapping(Mapping&& other) noexcept : address(std::exchange(other.address, MAP_FAILED)), length(other.length) {}
    Mapping& operator=(Mapping&& other) noexcept {
        std::swap(address, other.address);
        std::swap(length, other.length);
        return *this;
    }
    ~Mapping() {
        if (address != MAP_FAILED) ::munmap(address, length);
    }
    bool ok() const { return address != MAP_FAILED; }
    template <typename T>
    T* at(size_t offset) const {
        return reinterpret_cast<T*>(static_cast<char*>(address) + offset);
    }
};

template <typename T>
T load_acquire(const T* p) {
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
template <typename T>
void store_release(T* p, T value) {
    __atomic_store_n(p, value, __ATOMIC_RELEASE);
}

}  // namespace

struct SocketRing::Mapped {
    Mapping sq_ring, cq_ring, sqes_map;
    unsigned* sq_tail = nullptr;
    unsigned* sq_mask = nullptr;
    unsigned* sq_array = nullptr;
    io_uring_sqe* sqes = nullptr;
    unsigned* cq_head = nullptr;
    unsigned* cq_tail = nullptr;
    unsigned* cq_mask = nullptr;
    io_uring_cqe* cqes = nullptr;
    // Completions reaped but not yet taken: (tag, result).
    std::vector<std::pair<uint64_t, int>> reaped;
};

std::unique_ptr<SocketRing> SocketRing::open() {
    if (const char* knob = std::getenv("TETHER_NETD_IO_URING"); knob && std::string_view(knob) == "0") return nullptr;
    io_uring_params params{};
    params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    UniqueFd ring(io_uring_setup(kEntries, &params));
    if (!ring && errno == EINVAL) {
        params = {};
        ring.reset(io_uring_setup(kEntries, &params));
    }
    if (!ring) return nullptr;
    if (!(params.features & IORING_FEAT_CQE_SKIP)) return nullptr;  // < 5.17
    if (!supports(ring.get(), {IORING_OP_CONNECT, IORING_OP_CLOSE, IORING_OP_ASYNC_CANCEL})) return nullptr;

    auto m = std::make_unique<Mapped>();
    size_t sq_size = params.sq_off.array + params.sq_entries * sizeof(unsigned);
    size_t cq_size = params.cq_off.cqes + params.cq_entries * sizeof(io_uring_cqe);
    bool single = params.features & IORING_FEAT_SINGLE_MMAP;
    if (single) sq_size = cq_size = std::max(sq_size, cq_size);
    m->sq_ring = Mapping(ring.get(), sq_size, IORING_OFF_SQ_RING);
    if (!m->sq_ring.ok()) return nullptr;
    const Mapping* cq = &m->sq_ring;
    if (!single) {
        m->cq_ring = Mapping(ring.get(), cq_size, IORING_OFF_CQ_RING);
        if (!m->cq_ring.ok()) return nullptr;
        cq = &m->cq_ring;
    }
    m->sqes_map = Mapping(ring.get(), params.sq_entries * sizeof(io_uring_sqe), IORING_OFF_SQES);
    if (!m->sqes_map.ok()) return nullptr;

    m->sq_tail = m->sq_ring.at<unsigned>(params.sq_off.tail);
    m->sq_mask = m->sq_ring.at<unsigned>(params.sq_off.ring_mask);
    m->sq_array = m->sq_ring.at<unsigned>(params.sq_off.array);
    m->sqes = m->sqes_map.at<io_uring_sqe>(0);
    m->cq_head = cq->at<unsigned>(params.cq_off.head);
    m->cq_tail = cq->at<unsigned>(params.cq_off.tail);
    m->cq_mask = cq->at<unsigned>(params.cq_off.ring_mask);
    m->cqes = cq->at<io_uring_cqe>(params.cq_off.cqes);
    std::unique_ptr<SocketRing> result(new SocketRing(std::move(ring), std::move(m)));

    // Socket getsockopt through io_uring: try it on a socket of a known kind.
    if (supports(result->ring_.get(), {IORING_OP_URING_CMD})) {
        UniqueFd probe(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        if (probe) {
            result->has_getsockopt_ = true;
            try {
                SocketKind kind = result->domain_and_type(probe.get());
                result->has_getsockopt_ = kind.error == 0 && kind.domain == AF_INET && kind.type == SOCK_DGRAM;
            } catch (const std::system_error&) {
                return nullptr;
            }
        }
    }
    return result;
}

SocketRing::SocketRing(UniqueFd ring, std::unique_ptr<Mapped> mapped)
    : ring_(std::move(ring)), mapped_(std::move(mapped)) {}

// Closing the ring cancels whatever is still in flight.
SocketRing::~SocketRing() = default;

io_uring_sqe* SocketRing::next_sqe() {
    unsigned tail = *mapped_->sq_tail;
    unsigned index = tail & *mapped_->sq_mask;
    io_uring_sqe* sqe = &mapped_->sqes[index];
    std::memset(sqe, 0, sizeof *sqe);
    mapped_->sq_array[index] = index;
    store_release(mapped_->sq_tail, tail + 1);  // seen by the kernel at the next enter only
    return sqe;
}

void SocketRing::enter(unsigned to_submit, unsigned wait_for) {
    for (;;) {
        int rc = io_uring_enter(ring_.get(), to_submit, wait_for, IORING_ENTER_GETEVENTS);
        if (rc >= 0) {
            // Every entry is consumed, or the ring is no longer in a known state.
            if (static_cast<unsigned>(rc) != to_submit)
                throw std::system_error(EAGAIN, std::generic_category(), "io_uring_enter: entries left unsubmitted");
            break;
        }
        if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "io_uring_enter");
        // Interrupted before submitting anything (the supervisor's wake signal).
    }
    unsigned head = *mapped_->cq_head;
    unsigned tail = load_acquire(mapped_->cq_tail);
    for (; head != tail; ++head) {
        const io_uring_cqe& cqe = mapped_->cqes[head & *mapped_->cq_mask];
        if (cqe.user_data & kCloseBit) continue;  // a close of a duplicate that failed: nothing to do
        mapped_->reaped.emplace_back(cqe.user_data, cqe.res);
    }
    store_release(mapped_->cq_head, head);
}

std::optional<int> SocketRing::take(uint64_t tag) {
    auto& reaped = mapped_->reaped;
    for (auto it = reaped.begin(); it != reaped.end(); ++it) {
        if (it->first != tag) continue;
        int result = it->second;
        reaped.erase(it);
        return result;
    }
    return std::nullopt;
}

int SocketRing::wait_for(uint64_t tag) {
    for (;;) {
        if (auto result = take(tag)) return *result;
        enter(0, 1);
    }
}

SocketRing::SocketKind SocketRing::domain_and_type(int fd) {
    int values[2] = {0, 0};
    uint64_t tags[2] = {next_tag_++, next_tag_++};
    int names[2] = {SO_DOMAIN, SO_TYPE};
    for (int i = 0; i < 2; ++i) {
        io_uring_sqe* sqe = next_sqe();
        sqe->opcode = IORING_OP_URING_CMD;
        sqe->fd = fd;
        sqe->cmd_op = kSocketUringOpGetsockopt;
        uint32_t level_and_name[2] = {SOL_SOCKET, static_cast<uint32_t>(names[i])};
        std::memcpy(&sqe->addr, level_and_name, sizeof level_and_name);
        sqe->file_index = sizeof(int);  // optlen
        sqe->addr3 = reinterpret_cast<uintptr_t>(&values[i]);  // optval
        sqe->user_data = tags[i];
    }
    enter(2, 0);
    SocketKind kind;
    for (int i = 0; i < 2; ++i) {
        int result = wait_for(tags[i]);
        if (result < 0 && !kind.error) kind.error = -result;
    }
    kind.domain = values[0];
    kind.type = values[1];
    return kind;
}

SocketRing::ConnectResult SocketRing::connect_and_close(int fd, const sockaddr* address, socklen_t length) {
    uint64_t tag = next_tag_++;
    io_uring_sqe* connect = next_sqe();
    connect->opcode = IORING_OP_CONNECT;
    connect->fd = fd;
    connect->addr = reinterpret_cast<uintptr_t>(address);  // copied by the kernel at submission
    connect->off = length;  // IORING_OP_CONNECT takes the address length here
    connect->flags = IOSQE_IO_HARDLINK;  // the close follows whatever the connect's result
    connect->user_data = tag;
    io_uring_sqe* close = next_sqe();
    close->opcode = IORING_OP_CLOSE;
    close->fd = fd;
    close->flags = IOSQE_CQE_SKIP_SUCCESS;
    close->user_data = tag | kCloseBit;
    enter(2, 0);
    if (auto result = take(tag)) return *result;

    // Still in progress: cancel io_uring's wait; the socket goes on
    // connecting, and the close follows the cancelled connect.
    io_uring_sqe* cancel = next_sqe();
    cancel->opcode = IORING_OP_ASYNC_CANCEL;
    cancel->fd = -1;
    cancel->addr = tag;  // the user_data of the request to cancel
    cancel->user_data = tag | kCancelBit;
    enter(1, 0);
    int result = wait_for(tag);
    wait_for(tag | kCancelBit);
    // It may have completed between the two submissions.
    if (result == -ECANCELED) return std::nullopt;
    return result;
}

}  // namespace tether::hooks
