// The DNS wire format, as far as the container's resolver needs it (issue
// 21): one question in, A or AAAA records (or an error code) out. Pure
// functions on bytes, with no resolver and no policy, so that every input
// a hostile client can send is unit-tested and fuzzed (tests/fuzz/fuzz_dns.cpp).
//
// What is accepted: a standard query (QR 0, opcode QUERY) with exactly one
// question whose name is uncompressed and made of letters, digits, '-' and
// '_' (the only bytes a host name that the allowlists can cover holds).
// Anything else gets FORMERR or NOTIMP, or nothing at all when the packet is
// too short to carry an id or is itself a response (answering those would
// let two resolvers bounce packets off each other).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tether::hooks::dns {

inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypeAAAA = 28;
inline constexpr uint16_t kClassIN = 1;

enum class Rcode : uint8_t { noerror = 0, formerr = 1, servfail = 2, nxdomain = 3, notimp = 4, refused = 5 };

enum class ParseStatus {
    ok,       // one question, in `question`
    ignore,   // no answer at all: shorter than a header, or a response
    formerr,  // answer FORMERR (id known, question unusable)
    notimp,   // answer NOTIMP (an opcode other than QUERY)
};

struct Query {
    ParseStatus status = ParseStatus::ignore;
    uint16_t id = 0;
    bool recursion_desired = false;
    std::string name;  // lower-case labels joined by '.', no trailing dot ("" for the root)
    uint16_t type = 0;
    uint16_t klass = 0;
    std::vector<uint8_t> question;  // the question's bytes as received, echoed in the answer
};

Query parse_query(const uint8_t* data, size_t size);

struct Answer {
    Rcode rcode = Rcode::noerror;
    std::vector<std::array<uint8_t, 4>> a;      // A records (only for a type A question)
    std::vector<std::array<uint8_t, 16>> aaaa;  // AAAA records (only for a type AAAA question)
    uint32_t ttl = 0;
};

// At most this many records go into one answer: the reply then always fits
// the 512 bytes a UDP answer without EDNS may have (12 + 260 + 8 * 28).
inline constexpr size_t kMaxRecords = 8;

// The reply to `query` (status ok, formerr or notimp); empty for ignore.
// Records beyond kMaxRecords are left out; the question is echoed when it
// was parsed.
std::vector<uint8_t> build_response(const Query& query, const Answer& answer);

// "A", "AAAA", "TXT", ... or the number, for the decision log.
std::string type_name(uint16_t type);

}  // namespace tether::hooks::dns
