#include "hooks/dns/dns_message.hpp"

#include <algorithm>

namespace tether::hooks::dns {
namespace {

constexpr size_t kHeader = 12;
constexpr size_t kMaxName = 255;  // RFC 1035 2.3.4, in wire bytes

uint16_t read16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

void put16(std::vector<uint8_t>& out, uint16_t v) {
    out.push_back(static_cast<uint8_t>(v >> 8));
    out.push_back(static_cast<uint8_t>(v));
}

void put32(std::vector<uint8_t>& out, uint32_t v) {
    put16(out, static_cast<uint16_t>(v >> 16));
    put16(out, static_cast<uint16_t>(v));
}

bool name_byte(uint8_t c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

char lower(uint8_t c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c); }

}  // namespace

Query parse_query(const uint8_t* data, size_t size) {
    Query q;
    if (size < kHeader) return q;  // no id to answer to
    q.id = read16(data);
    uint16_t flags = read16(data + 2);
    if (flags & 0x8000) return q;  // a response: never answered
    q.recursion_desired = (flags & 0x0100) != 0;
    uint8_t opcode = (flags >> 11) & 0xf;
    if (opcode != 0) {
        q.status = ParseStatus::notimp;
        return q;
    }
    q.status = ParseStatus::formerr;
    // Exactly one question (RFC 9619); answers and authority must be empty.
    // Additional records (an EDNS OPT) are allowed and ignored.
    if (read16(data + 4) != 1 || read16(data + 6) != 0 || read16(data + 8) != 0) return q;
    size_t at = kHeader;
    std::string name;
    for (;;) {
        if (at >= size) return q;
        uint8_t length = data[at];
        if (length == 0) {
            ++at;
            break;
        }
        // 0xc0 and the reserved 0x40/0x80 forms: no compression in a question.
        if (length > 63) return q;
        if (at + 1 + length > size) return q;
        if (at + 1 + length - kHeader > kMaxName - 1) return q;
        if (!name.empty()) name.push_back('.');
        for (size_t i = 0; i < length; ++i) {
            uint8_t c = data[at + 1 + i];
            if (!name_byte(c)) return q;
            name.push_back(lower(c));
        }
        at += 1 + length;
    }
    if (at + 4 > size) return q;
    q.type = read16(data + at);
    q.klass = read16(data + at + 2);
    at += 4;
    q.name = std::move(name);
    q.question.assign(data + kHeader, data + at);
    q.status = ParseStatus::ok;
    return q;
}

std::vector<uint8_t> build_response(const Query& query, const Answer& answer) {
    std::vector<uint8_t> out;
    if (query.status == ParseStatus::ignore) return out;
    Rcode rcode = query.status == ParseStatus::notimp   ? Rcode::notimp
                  : query.status == ParseStatus::formerr ? Rcode::formerr
                                                         : answer.rcode;
    bool with_question = query.status == ParseStatus::ok;
    bool records = with_question && rcode == Rcode::noerror && query.klass == kClassIN;
    size_t a = records && query.type == kTypeA ? std::min(answer.a.size(), kMaxRecords) : 0;
    size_t aaaa = records && query.type == kTypeAAAA ? std::min(answer.aaaa.size(), kMaxRecords) : 0;

    put16(out, query.id);
    // QR, opcode QUERY, RD as asked, RA (the container is told recursion is
    // available: its resolver then takes the answer as final).
    uint16_t flags = 0x8000 | (query.recursion_desired ? 0x0100 : 0) | 0x0080 | static_cast<uint16_t>(rcode);
    put16(out, flags);
    put16(out, with_question ? 1 : 0);
    put16(out, static_cast<uint16_t>(a + aaaa));
    put16(out, 0);
    put16(out, 0);
    if (with_question) out.insert(out.end(), query.question.begin(), query.question.end());
    auto record = [&](uint16_t type, const uint8_t* bytes, uint16_t length) {
        put16(out, 0xc000 | kHeader);  // the name: a pointer to the question's
        put16(out, type);
        put16(out, kClassIN);
        put32(out, answer.ttl);
        put16(out, length);
        out.insert(out.end(), bytes, bytes + length);
    };
    for (size_t i = 0; i < a; ++i) record(kTypeA, answer.a[i].data(), 4);
    for (size_t i = 0; i < aaaa; ++i) record(kTypeAAAA, answer.aaaa[i].data(), 16);
    return out;
}

std::string type_name(uint16_t type) {
    switch (type) {
    case 1: return "A";
    case 2: return "NS";
    case 5: return "CNAME";
    case 6: return "SOA";
    case 12: return "PTR";
    case 15: return "MX";
    case 16: return "TXT";
    case 28: return "AAAA";
    case 33: return "SRV";
    case 64: return "SVCB";
    case 65: return "HTTPS";
    case 255: return "ANY";
    default: return std::to_string(type);
    }
}

}  // namespace tether::hooks::dns
