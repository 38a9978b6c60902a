// libFuzzer target: the DNS responder's wire format (hooks/dns/dns_message).
// Any bytes a container sends to port 53 reach parse_query; whatever it
// accepts must build a reply that is well-formed: the same id, the question
// echoed byte for byte, and no more than 512 bytes (the size of a UDP answer
// without EDNS).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "hooks/dns/dns_message.hpp"

using namespace tether::hooks::dns;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Query query = parse_query(data, size);
    Answer answer;
    // Vary the answer from the input so that every branch of the builder runs.
    if (size > 2) answer.rcode = static_cast<Rcode>(data[size - 1] % 6);
    answer.a.resize(size % 11);
    answer.aaaa.resize(size % 13);
    answer.ttl = 30;
    std::vector<uint8_t> reply = build_response(query, answer);
    if (query.status == ParseStatus::ignore) {
        if (!reply.empty()) std::abort();
        return 0;
    }
    if (reply.size() < 12 || reply.size() > 512) std::abort();
    if (reply[0] != data[0] || reply[1] != data[1]) std::abort();
    if (!(reply[2] & 0x80)) std::abort();  // always a response
    if (query.status == ParseStatus::ok) {
        if (query.name.size() > 253) std::abort();
        if (std::memcmp(reply.data() + 12, query.question.data(), query.question.size()) != 0) std::abort();
        if (std::memcmp(data + 12, query.question.data(), query.question.size()) != 0) std::abort();
    }
    return 0;
}
