#include "hooks/net/netns_listen.hpp"

#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <exception>
#include <thread>

#include "hooks/net/socket_util.hpp"
#include "runtime/core/error.hpp"

namespace tether::hooks {

void bring_loopback_up() {
    UniqueFd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock) throw_errno("socket for SIOCGIFFLAGS on lo");
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (ioctl(sock.get(), SIOCGIFFLAGS, &ifr) != 0) throw_errno("ioctl SIOCGIFFLAGS lo");
    if (ifr.ifr_flags & IFF_UP) return;
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(sock.get(), SIOCSIFFLAGS, &ifr) != 0) throw_errno("ioctl SIOCSIFFLAGS lo up");
}

namespace {

// Runs in the helper thread, already inside the container's namespace.
std::vector<UniqueFd> make_listeners(const std::vector<uint16_t>& ports) {
    bring_loopback_up();
    std::vector<UniqueFd> listeners;
    for (uint16_t port : ports) {
        listeners.push_back(listen_tcp(loopback_v4(port)));
        try {
            listeners.push_back(listen_tcp(loopback_v6(port)));
        } catch (const Error& e) {
            // A namespace without IPv6 (disable_ipv6, ipv6.disable=1) simply has no
            // [::1] for a client to use; anything else is a real failure.
            int err = e.error_number();
            if (err != EADDRNOTAVAIL && err != EAFNOSUPPORT) throw;
        }
    }
    return listeners;
}

UniqueFd bind_udp(const SocketAddress& address) {
    UniqueFd fd(::socket(address.family(), SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) throw_errno("socket for UDP " + address.to_string());
    int one = 1;
    if (address.family() == AF_INET6 && setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0)
        throw_errno("IPV6_V6ONLY");
    if (::bind(fd.get(), address.get(), address.length) != 0) throw_errno("bind UDP " + address.to_string());
    return fd;
}

std::vector<UniqueFd> make_udp_sockets(uint16_t port) {
    bring_loopback_up();
    std::vector<UniqueFd> sockets;
    sockets.push_back(bind_udp(loopback_v4(port)));
    try {
        sockets.push_back(bind_udp(loopback_v6(port)));
    } catch (const Error& e) {
        int err = e.error_number();
        if (err != EADDRNOTAVAIL && err != EAFNOSUPPORT) throw;
    }
    return sockets;
}

}  // namespace

std::vector<UniqueFd> bind_udp_loopback_in_netns(int netns_fd, uint16_t port) {
    std::vector<UniqueFd> sockets;
    std::exception_ptr failure;
    std::thread helper([&] {
        try {
            if (setns(netns_fd, CLONE_NEWNET) != 0) throw_errno("setns into the container's network namespace");
            sockets = make_udp_sockets(port);
        } catch (...) {
            failure = std::current_exception();
        }
    });
    helper.join();
    if (failure) std::rethrow_exception(failure);
    return sockets;
}

std::vector<UniqueFd> listen_loopback_in_netns(int netns_fd, const std::vector<uint16_t>& ports) {
    std::vector<UniqueFd> listeners;
    std::exception_ptr failure;
    // setns(CLONE_NEWNET) changes only the calling thread; the helper thread
    // exits right after, so no thread of the daemon stays in the container's namespace.
    std::thread helper([&] {
        try {
            if (setns(netns_fd, CLONE_NEWNET) != 0) throw_errno("setns into the container's network namespace");
            listeners = make_listeners(ports);
        } catch (...) {
            failure = std::current_exception();
        }
    });
    helper.join();
    if (failure) std::rethrow_exception(failure);
    return listeners;
}

}  // namespace tether::hooks
