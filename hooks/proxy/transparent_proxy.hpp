// The egress proxy's transparent listener (issue 21): connections the
// kernel redirected here from direct TCP connects (hooks/bpf connect4/6 with
// transparent_port), each served by a TransparentConnection, whose tunnels
// go to the EgressProxy's relay. The listener is 127.0.0.1:3129 and
// [::1]:3129 in the container's own network namespace, a free port of the
// host's loopback on the host network.
//
// Threading: as EgressProxy (the loop thread, or before the loop runs).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "hooks/net/listener_set.hpp"
#include "hooks/net/periodic_timer.hpp"
#include "hooks/proxy/egress_proxy.hpp"
#include "hooks/proxy/transparent_connection.hpp"

namespace tether::hooks {

class TransparentProxy {
public:
    // The original destination of an accepted connection, by its peer
    // address (bpf::OriginalDestinations::take); nullopt when there is none.
    using OriginalLookup = std::function<std::optional<SocketAddress>(const SocketAddress& peer)>;

    TransparentProxy(EventLoop& loop, EgressProxy& proxy, OriginalLookup lookup);
    ~TransparentProxy();
    TransparentProxy(const TransparentProxy&) = delete;
    TransparentProxy& operator=(const TransparentProxy&) = delete;

    void add_listener(UniqueFd listener);
    size_t active_connections() const { return connections_.size(); }

private:
    void accept_all(int listener_fd);

    EventLoop& loop_;
    EgressProxy& proxy_;
    OriginalLookup lookup_;
    ListenerSet listeners_;
    std::unordered_map<TransparentConnection*, std::unique_ptr<TransparentConnection>> connections_;
    std::unique_ptr<PeriodicTimer> tick_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace tether::hooks
