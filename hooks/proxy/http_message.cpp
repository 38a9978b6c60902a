#include "hooks/proxy/http_message.hpp"

#include <charconv>

namespace tether::hooks {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

std::optional<uint16_t> parse_port(std::string_view text) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535)
        return std::nullopt;
    return static_cast<uint16_t>(value);
}

}  // namespace

std::optional<std::string_view> HttpHead::header(std::string_view name) const {
    for (const auto& [key, value] : headers)
        if (iequals(key, name)) return std::string_view(value);
    return std::nullopt;
}

bool HttpHead::header_has_token(std::string_view name, std::string_view token) const {
    for (const auto& [key, value] : headers) {
        if (!iequals(key, name)) continue;
        std::string_view rest = value;
        while (!rest.empty()) {
            size_t comma = rest.find(',');
            if (iequals(trim(rest.substr(0, comma)), token)) return true;
            if (comma == std::string_view::npos) break;
            rest.remove_prefix(comma + 1);
        }
    }
    return false;
}

size_t find_head_end(std::string_view buffer) {
    size_t pos = buffer.find("\r\n\r\n");
    return pos == std::string_view::npos ? pos : pos + 4;
}

std::optional<HttpHead> parse_http_head(std::string_view head) {
    HttpHead result;
    size_t line_end = head.find("\r\n");
    if (line_end == std::string_view::npos) return std::nullopt;
    std::string_view start = head.substr(0, line_end);
    size_t sp1 = start.find(' ');
    if (sp1 == std::string_view::npos) return std::nullopt;
    size_t sp2 = start.find(' ', sp1 + 1);
    result.start_line_1 = std::string(start.substr(0, sp1));
    if (sp2 == std::string_view::npos) {
        result.start_line_2 = std::string(start.substr(sp1 + 1));
    } else {
        result.start_line_2 = std::string(start.substr(sp1 + 1, sp2 - sp1 - 1));
        result.start_line_3 = std::string(start.substr(sp2 + 1));
    }
    if (result.start_line_1.empty() || result.start_line_2.empty()) return std::nullopt;
    size_t pos = line_end + 2;
    while (pos < head.size()) {
        size_t end = head.find("\r\n", pos);
        if (end == std::string_view::npos) return std::nullopt;
        if (end == pos) break;  // the empty line
        std::string_view line = head.substr(pos, end - pos);
        size_t colon = line.find(':');
        // No whitespace before the colon (RFC 9112 5.1): a classic smuggling vector.
        if (colon == std::string_view::npos || colon == 0 || line[colon - 1] == ' ' || line[0] == ' ' || line[0] == '\t')
            return std::nullopt;
        result.headers.emplace_back(std::string(line.substr(0, colon)), std::string(trim(line.substr(colon + 1))));
        pos = end + 2;
    }
    return result;
}

std::optional<HttpTarget> parse_authority(std::string_view authority, uint16_t default_port) {
    HttpTarget target;
    std::string_view host = authority;
    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        size_t close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        host = authority.substr(1, close - 1);
        std::string_view rest = authority.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return std::nullopt;
            port_text = rest.substr(1);
        }
    } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port_text = authority.substr(colon + 1);
    }
    // userinfo ("user@host") is refused: "allowed.com@evil.com" must not confuse anyone.
    if (host.empty() || host.find('@') != std::string_view::npos) return std::nullopt;
    if (port_text.empty()) {
        if (default_port == 0) return std::nullopt;
        target.port = default_port;
    } else {
        auto port = parse_port(port_text);
        if (!port) return std::nullopt;
        target.port = *port;
    }
    target.host = std::string(host);
    return target;
}

std::optional<HttpTarget> parse_absolute_http_target(std::string_view target) {
    constexpr std::string_view scheme = "http://";
    if (target.size() <= scheme.size() || !iequals(target.substr(0, scheme.size()), scheme)) return std::nullopt;
    std::string_view rest = target.substr(scheme.size());
    size_t path_start = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, path_start);
    auto result = parse_authority(authority, 80);
    if (!result) return std::nullopt;
    std::string_view path = path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
    if (size_t hash = path.find('#'); hash != std::string_view::npos) path = path.substr(0, hash);
    result->origin_form = path.empty() || path.front() != '/' ? "/" + std::string(path) : std::string(path);
    return result;
}

namespace {

std::optional<BodyFraming> framing_from_headers(const HttpHead& head, bool until_close_default) {
    BodyFraming framing;
    bool chunked = head.header_has_token("Transfer-Encoding", "chunked");
    std::optional<uint64_t> length;
    for (const auto& [key, value] : head.headers) {
        if (!iequals(key, "Content-Length")) continue;
        uint64_t parsed = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
        if (value.empty() || ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
        // Two different lengths, or a length next to chunked: request smuggling.
        if (length && *length != parsed) return std::nullopt;
        length = parsed;
    }
    if (chunked && length) return std::nullopt;
    if (head.header("Transfer-Encoding") && !chunked) {
        if (!until_close_default) return std::nullopt;  // a request must be chunked if encoded
        framing.kind = BodyFraming::until_close;
        return framing;
    }
    if (chunked) {
        framing.kind = BodyFraming::chunked;
    } else if (length) {
        framing.kind = *length ? BodyFraming::content_length : BodyFraming::none;
        framing.length = *length;
    } else {
        framing.kind = until_close_default ? BodyFraming::until_close : BodyFraming::none;
    }
    return framing;
}

}  // namespace

std::optional<BodyFraming> request_body_framing(const HttpHead& request) {
    return framing_from_headers(request, false);
}

std::optional<BodyFraming> response_body_framing(const HttpHead& response, std::string_view request_method) {
    int status = 0;
    std::from_chars(response.start_line_2.data(), response.start_line_2.data() + response.start_line_2.size(), status);
    if (iequals(request_method, "HEAD") || (status >= 100 && status < 200) || status == 204 || status == 304)
        return BodyFraming{};
    return framing_from_headers(response, true);
}

std::string rewrite_request_for_origin(const HttpHead& request, const HttpTarget& target) {
    std::string head = request.start_line_1 + " " + target.origin_form + " " + request.start_line_3 + "\r\n";
    bool default_port = target.port == 80;
    bool v6 = target.host.find(':') != std::string::npos;
    std::string host_value = (v6 ? "[" + target.host + "]" : target.host) +
                             (default_port ? "" : ":" + std::to_string(target.port));
    head += "Host: " + host_value + "\r\n";
    for (const auto& [key, value] : request.headers) {
        // Proxy credentials and proxy hop-by-hop headers are for us, not the origin.
        if (iequals(key, "Host") || (key.size() >= 6 && iequals(std::string_view(key).substr(0, 6), "Proxy-")))
            continue;
        head += key + ": " + value + "\r\n";
    }
    return head + "\r\n";
}

size_t ChunkedBodyScanner::consume(std::string_view data) {
    size_t i = 0;
    while (i < data.size() && state_ != State::done && state_ != State::failed) {
        char c = data[i];
        switch (state_) {
            case State::size_line:
                if (in_extension_) {
                    if (c == '\r') state_ = State::size_line_lf;
                } else if (int digit = (c >= '0' && c <= '9') ? c - '0'
                                       : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                       : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                                                : -1;
                           digit >= 0) {
                    if (remaining_ >> 56) {
                        state_ = State::failed;
                        return i;
                    }
                    remaining_ = remaining_ * 16 + static_cast<unsigned>(digit);
                    size_seen_ = true;
                } else if (c == ';' && size_seen_) {
                    in_extension_ = true;
                } else if (c == '\r' && size_seen_) {
                    state_ = State::size_line_lf;
                } else {
                    state_ = State::failed;
                    return i;
                }
                ++i;
                break;
            case State::size_line_lf:
                if (c != '\n') {
                    state_ = State::failed;
                    return i;
                }
                in_extension_ = false;
                state_ = remaining_ == 0 ? State::trailer_line_start : State::data;
                ++i;
                break;
            case State::data: {
                size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, data.size() - i));
                remaining_ -= take;
                i += take;
                if (remaining_ == 0) state_ = State::data_cr;
                break;
            }
            case State::data_cr:
            case State::data_lf:
                if (c != (state_ == State::data_cr ? '\r' : '\n')) {
                    state_ = State::failed;
                    return i;
                }
                if (state_ == State::data_lf) size_seen_ = false;
                state_ = state_ == State::data_cr ? State::data_lf : State::size_line;
                ++i;
                break;
            case State::trailer_line_start:
                state_ = c == '\r' ? State::final_lf : State::trailer_line;
                ++i;
                break;
            case State::trailer_line:
                if (c == '\r') state_ = State::trailer_lf;
                ++i;
                break;
            case State::trailer_lf:
            case State::final_lf:
                if (c != '\n') {
                    state_ = State::failed;
                    return i;
                }
                state_ = state_ == State::final_lf ? State::done : State::trailer_line_start;
                ++i;
                break;
            case State::done:
            case State::failed:
                break;
        }
    }
    return i;
}

std::string make_http_response(int status, std::string_view reason, std::string_view body, bool close) {
    std::string response = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
    response += "Content-Type: text/plain; charset=utf-8\r\n";
    response += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    if (close) response += "Connection: close\r\n";
    response += "\r\n";
    response += body;
    return response;
}

}  // namespace tether::hooks
