// Transparent egress (issue 21): the name a redirected connection asks for,
// read from its first bytes, before anything is dialled. A TLS ClientHello
// carries it in the server_name extension (SNI, RFC 6066), a plain HTTP/1.x
// request in its Host header. Pure; unit-tested (proxy_first_bytes_test.cpp).
//
// Nothing is sent back while reading: the client speaks first in both
// protocols. A client that never sends (a server-first protocol such as SSH's
// banner wait, SMTP, PostgreSQL's, MySQL's) reaches a named host only
// through allowedHosts, which is decided on the destination alone.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tether::hooks {

// A ClientHello larger than this (two full TLS records) is refused rather
// than buffered further; real ones, post-quantum key shares included, are
// under 2 KiB.
inline constexpr size_t kMaxFirstBytes = 32 * 1024;

struct FirstBytes {
    enum Kind {
        incomplete,  // not enough bytes yet to tell
        tls,         // a ClientHello; name = its SNI ("" when it has none)
        http,        // an HTTP/1.x request head; name = its Host ("" when none)
        unknown,     // neither (or malformed, or past kMaxFirstBytes)
    } kind = incomplete;
    std::string name;  // as sent: not normalised, no port, no brackets
};

FirstBytes read_first_bytes(std::string_view bytes);

}  // namespace tether::hooks
