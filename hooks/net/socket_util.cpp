#include "hooks/net/socket_util.hpp"

#include <arpa/inet.h>
#include <netinet/tcp.h>

#include <cstring>

#include "runtime/core/error.hpp"

namespace tether::hooks {

uint16_t SocketAddress::port() const {
    if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
    if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
    return 0;
}

std::string SocketAddress::ip_string() const {
    char buf[INET6_ADDRSTRLEN] = "?";
    if (family() == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, buf, sizeof buf);
    else if (family() == AF_INET6)
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, buf, sizeof buf);
    return buf;
}

bool SocketAddress::is_loopback() const {
    if (family() == AF_INET)
        return (ntohl(reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr.s_addr) >> 24) == 127;
    if (family() == AF_INET6) return IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr);
    return false;
}

std::string SocketAddress::to_string() const {
    std::string port_part = ":" + std::to_string(port());
    return family() == AF_INET6 ? "[" + ip_string() + "]" + port_part : ip_string() + port_part;
}

SocketAddress SocketAddress::ipv4(const in_addr& addr, uint16_t port) {
    SocketAddress result;
    auto* sin = reinterpret_cast<sockaddr_in*>(&result.storage);
    sin->sin_family = AF_INET;
    sin->sin_addr = addr;
    sin->sin_port = htons(port);
    result.length = sizeof(sockaddr_in);
    return result;
}

SocketAddress SocketAddress::ipv6(const in6_addr& addr, uint16_t port) {
    SocketAddress result;
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&result.storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_addr = addr;
    sin6->sin6_port = htons(port);
    result.length = sizeof(sockaddr_in6);
    return result;
}

SocketAddress SocketAddress::from_sockaddr(const sockaddr* sa, socklen_t len) {
    SocketAddress result;
    if (len > sizeof result.storage) len = sizeof result.storage;
    std::memcpy(&result.storage, sa, len);
    result.length = len;
    return result;
}

std::optional<SocketAddress> SocketAddress::parse_ip(std::string_view ip, uint16_t port) {
    std::string text(ip);
    in_addr v4{};
    if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return ipv4(v4, port);
    in6_addr v6{};
    if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) return ipv6(v6, port);
    return std::nullopt;
}

SocketAddress loopback_v4(uint16_t port) {
    in_addr addr{htonl(INADDR_LOOPBACK)};
    return SocketAddress::ipv4(addr, port);
}

SocketAddress loopback_v6(uint16_t port) { return SocketAddress::ipv6(in6addr_loopback, port); }

UniqueFd listen_tcp(const SocketAddress& addr, int backlog) {
    UniqueFd fd(socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) throw_errno("socket for listening on " + addr.to_string());
    int one = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (addr.family() == AF_INET6) setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd.get(), addr.get(), addr.length) != 0) throw_errno("bind " + addr.to_string());
    if (listen(fd.get(), backlog) != 0) throw_errno("listen " + addr.to_string());
    return fd;
}

uint16_t local_port(int fd) { return local_address(fd).port(); }

SocketAddress local_address(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) throw_errno("getsockname");
    return SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

ConnectAttempt start_connect(const SocketAddress& addr) {
    ConnectAttempt attempt;
    attempt.fd = UniqueFd(socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!attempt.fd) {
        attempt.error = errno;
        return attempt;
    }
    if (connect(attempt.fd.get(), addr.get(), addr.length) != 0 && errno != EINPROGRESS) attempt.error = errno;
    return attempt;
}

int take_socket_error(int fd) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
    return err;
}

void set_nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void use_unpaced_congestion_control(int fd) {
    static constexpr char kReno[] = "reno";
    setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, kReno, sizeof kReno - 1);
}

void set_reset_on_close(int fd) {
    linger lg{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

}  // namespace tether::hooks
