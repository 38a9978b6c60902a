// A DNS query as a stub resolver sends it (one question, class IN), for the
// DNS parser and responder tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tether::hooks::dns {

// flags 0x0100: a standard query with RD set.
inline std::vector<uint8_t> query_bytes(const std::string& name, uint16_t type, uint16_t flags = 0x0100,
                                        uint16_t id = 0x1234) {
    std::vector<uint8_t> q = {static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id),
                              static_cast<uint8_t>(flags >> 8), static_cast<uint8_t>(flags), 0, 1, 0, 0, 0, 0, 0, 0};
    size_t start = 0;
    while (start < name.size()) {
        size_t dot = name.find('.', start);
        if (dot == std::string::npos) dot = name.size();
        q.push_back(static_cast<uint8_t>(dot - start));
        q.insert(q.end(), name.begin() + static_cast<std::ptrdiff_t>(start), name.begin() + static_cast<std::ptrdiff_t>(dot));
        start = dot + 1;
    }
    q.insert(q.end(), {0, static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type), 0, 1});
    return q;
}

}  // namespace tether::hooks::dns
