// The loopback bridge: listeners that live in the container's network namespace
// (see hooks/net/netns_listen.hpp), each forwarding every accepted connection to
// the host's 127.0.0.1:<port>, dialled from the daemon's own (host) namespace.
// Nothing runs inside the container. Connections are relayed by SpliceRelay on
// the shared EventLoop; there is no thread per connection.
//
// Failure mapping, as a client would see a real server:
// - upstream refuses or is unreachable: the accepted client is reset at once
//   (SO_LINGER 0), never left hanging;
// - upstream resets mid-stream: the client gets ECONNRESET (and vice versa).
// If the daemon dies, the listeners die with it: new connections are refused and
// relayed ones reset (fail closed).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "hooks/net/event_loop.hpp"
#include "hooks/net/socket_util.hpp"
#include "hooks/net/splice_relay.hpp"
#include "runtime/core/unique_fd.hpp"

namespace tether::hooks {

// One line for the decision log, reported when a bridged connection ends.
struct BridgeConnectionReport {
    uint16_t listen_port = 0;
    std::string upstream;  // "127.0.0.1:5432"
    int connect_error = 0;  // errno of a failed upstream connect, else 0
    RelayStats stats;
};

class LoopbackBridge {
public:
    using ReportCallback = std::function<void(const BridgeConnectionReport&)>;

    explicit LoopbackBridge(EventLoop& loop, ReportCallback on_report = {});
    ~LoopbackBridge();
    LoopbackBridge(const LoopbackBridge&) = delete;
    LoopbackBridge& operator=(const LoopbackBridge&) = delete;

    // Serves a listening socket (non-blocking): each connection goes to upstream.
    void add_listener(UniqueFd listener, const SocketAddress& upstream);
    // The usual case: to the host's 127.0.0.1 on the listener's own port.
    void add_listener(UniqueFd listener);

    // Connections being dialled or relayed (loop thread only).
    size_t active_connections() const { return pending_.size() + relays_.size(); }

private:
    struct Listener {
        UniqueFd fd;
        SocketAddress upstream;
        uint16_t port = 0;
        bool loopback_to_loopback = false;  // both sides stay on this host: no pacing needed
        EventLoop::Token token = 0;
        bool paused = false;  // out of fds: stop accepting until a connection ends
    };
    struct PendingConnect {
        UniqueFd client;
        UniqueFd upstream;
        uint16_t listen_port = 0;
        SocketAddress upstream_address;
        EventLoop::Token token = 0;
    };

    void accept_all(Listener& listener);
    void dial(UniqueFd client, const Listener& listener);
    void on_connected(PendingConnect* pending);
    void start_relay(UniqueFd client, UniqueFd upstream, uint16_t listen_port, const SocketAddress& upstream_address);
    void reject(UniqueFd client, uint16_t listen_port, const SocketAddress& upstream_address, int error);
    void resume_listeners();

    EventLoop& loop_;
    ReportCallback on_report_;
    std::vector<std::unique_ptr<Listener>> listeners_;
    std::unordered_map<PendingConnect*, std::unique_ptr<PendingConnect>> pending_;
    std::unordered_map<SpliceRelay*, std::unique_ptr<SpliceRelay>> relays_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards posted cleanups
};

}  // namespace tether::hooks
