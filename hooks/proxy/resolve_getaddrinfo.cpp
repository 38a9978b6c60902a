#include <netdb.h>

#include "hooks/proxy/proxy_config.hpp"

namespace tether::hooks {

std::vector<SocketAddress> resolve_with_getaddrinfo(const std::string& name, uint16_t port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* result = nullptr;
    std::vector<SocketAddress> addresses;
    if (getaddrinfo(name.c_str(), std::to_string(port).c_str(), &hints, &result) != 0) return addresses;
    for (addrinfo* ai = result; ai; ai = ai->ai_next)
        if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
            addresses.push_back(SocketAddress::from_sockaddr(ai->ai_addr, ai->ai_addrlen));
    freeaddrinfo(result);
    return addresses;
}

}  // namespace tether::hooks
