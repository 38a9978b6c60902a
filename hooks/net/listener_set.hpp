// Sockets watched on an EventLoop, for a server that treats all of them
// alike: a readable socket runs the owner's handler with its fd. The
// listeners of EgressProxy and TransparentProxy (the handler accepts) and
// the DnsResponder's UDP sockets (it reads the queries). LoopbackBridge keeps
// its own, since each of its listeners carries an upstream and a pause state.
//
// Threading: as EventLoop::watch (the loop thread, or before the loop runs).
#pragma once

#include <sys/socket.h>

#include <functional>
#include <memory>
#include <vector>

#include "hooks/net/event_loop.hpp"
#include "runtime/core/unique_fd.hpp"

namespace tether::hooks {

class ListenerSet {
public:
    using OnReadable = std::function<void(int listener_fd)>;

    ListenerSet(EventLoop& loop, OnReadable on_readable) : loop_(loop), on_readable_(std::move(on_readable)) {}
    ~ListenerSet() { clear(); }
    ListenerSet(const ListenerSet&) = delete;
    ListenerSet& operator=(const ListenerSet&) = delete;

    // Watches fd (a non-blocking socket) for EPOLLIN.
    void add(UniqueFd fd);
    // Unwatches and closes every socket.
    void clear();

private:
    struct Listener {
        UniqueFd fd;
        EventLoop::Token token = 0;
    };
    EventLoop& loop_;
    OnReadable on_readable_;
    std::vector<std::unique_ptr<Listener>> listeners_;
};

// The next connection of a non-blocking listener, non-blocking and
// close-on-exec, past EINTR and ECONNABORTED; -1 once drained (EAGAIN) or on
// any other error. peer/length as accept4's (may be null).
int accept_next(int listener_fd, sockaddr* peer = nullptr, socklen_t* length = nullptr);

}  // namespace tether::hooks
