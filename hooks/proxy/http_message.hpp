// The little of HTTP/1.1 the egress proxy needs: request and response heads,
// absolute-form targets, and message body framing (RFC 9112 section 6), so that
// keep-alive connections can carry one request after another. Pure; unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tether::hooks {

// Longest request or response head the proxy accepts (431 / 502 beyond it).
inline constexpr size_t kMaxHttpHeadSize = 64 * 1024;

struct HttpHead {
    std::string start_line_1;  // method   | version
    std::string start_line_2;  // target   | status code
    std::string start_line_3;  // version  | reason
    std::vector<std::pair<std::string, std::string>> headers;

    // First value of a header, case-insensitive name.
    std::optional<std::string_view> header(std::string_view name) const;
    // Whether a comma-separated header (Connection, Transfer-Encoding) holds a token.
    bool header_has_token(std::string_view name, std::string_view token) const;
};

// Position just past "\r\n\r\n", or npos while the head is incomplete.
size_t find_head_end(std::string_view buffer);
// Parses a complete head (ending with the empty line); nullopt if malformed.
std::optional<HttpHead> parse_http_head(std::string_view head);

struct HttpTarget {
    std::string host;  // no brackets
    uint16_t port = 0;
    std::string origin_form;  // "/path?query" (absolute-form requests only)
};
// "host:port" / "[v6]:port" of a CONNECT request.
std::optional<HttpTarget> parse_authority(std::string_view authority, uint16_t default_port);
// "http://host[:port]/path" of a plain proxied request.
std::optional<HttpTarget> parse_absolute_http_target(std::string_view target);

// How a message body ends.
struct BodyFraming {
    enum Kind { none, content_length, chunked, until_close } kind = none;
    uint64_t length = 0;
};
// nullopt for a malformed or conflicting Content-Length / Transfer-Encoding.
std::optional<BodyFraming> request_body_framing(const HttpHead& request);
std::optional<BodyFraming> response_body_framing(const HttpHead& response, std::string_view request_method);

// The request head as the origin server should see it: origin-form target,
// Proxy-* headers removed, Host set to the target.
std::string rewrite_request_for_origin(const HttpHead& request, const HttpTarget& target);

// Finds where a chunked body ends, fed in pieces.
class ChunkedBodyScanner {
public:
    // Consumes up to data.size() bytes; returns how many belong to the body.
    // After done(), the rest of data belongs to the next message.
    size_t consume(std::string_view data);
    bool done() const { return state_ == State::done; }
    bool failed() const { return state_ == State::failed; }

private:
    enum class State { size_line, size_line_lf, data, data_cr, data_lf, trailer_line_start, trailer_line, trailer_lf, final_lf, done, failed };
    State state_ = State::size_line;
    uint64_t remaining_ = 0;
    bool size_seen_ = false;
    bool in_extension_ = false;
};

// A complete, small response the proxy writes itself (403, 502, ...).
std::string make_http_response(int status, std::string_view reason, std::string_view body, bool close);

}  // namespace tether::hooks
