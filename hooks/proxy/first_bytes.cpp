#include "hooks/proxy/first_bytes.hpp"

#include <optional>

#include "hooks/proxy/http_message.hpp"

namespace tether::hooks {
namespace {

constexpr uint8_t kHandshakeRecord = 0x16;
constexpr uint8_t kClientHello = 0x01;
constexpr uint16_t kServerNameExtension = 0;
constexpr uint8_t kHostName = 0;

// A bounds-checked reader of big-endian fields; any read past the end fails.
class Reader {
public:
    explicit Reader(std::string_view data) : data_(data) {}
    bool u8(uint32_t& out) { return number(1, out); }
    bool u16(uint32_t& out) { return number(2, out); }
    bool u24(uint32_t& out) { return number(3, out); }
    bool bytes(size_t n, std::string_view& out) {
        if (data_.size() - at_ < n) return false;
        out = data_.substr(at_, n);
        at_ += n;
        return true;
    }
    bool skip(size_t n) {
        std::string_view ignored;
        return bytes(n, ignored);
    }
    // A vector with a length prefix of `width` bytes.
    bool vector(size_t width, std::string_view& out) {
        uint32_t n = 0;
        return number(width, n) && bytes(n, out);
    }
    size_t left() const { return data_.size() - at_; }

private:
    bool number(size_t width, uint32_t& out) {
        if (data_.size() - at_ < width) return false;
        out = 0;
        for (size_t i = 0; i < width; ++i) out = out << 8 | static_cast<uint8_t>(data_[at_++]);
        return true;
    }
    std::string_view data_;
    size_t at_ = 0;
};

// The SNI host name of a complete ClientHello body ("" when it has none);
// nullopt when the message is malformed.
std::optional<std::string> server_name(std::string_view hello) {
    Reader r(hello);
    std::string_view ignored, extensions;
    if (!r.skip(2 + 32) || !r.vector(1, ignored) || !r.vector(2, ignored) || !r.vector(1, ignored)) return std::nullopt;
    if (r.left() == 0) return std::string();  // no extensions at all
    if (!r.vector(2, extensions)) return std::nullopt;
    Reader e(extensions);
    while (e.left() > 0) {
        uint32_t type = 0;
        std::string_view body;
        if (!e.u16(type) || !e.vector(2, body)) return std::nullopt;
        if (type != kServerNameExtension) continue;
        Reader list_reader(body);
        std::string_view list;
        if (!list_reader.vector(2, list)) return std::nullopt;
        Reader names(list);
        while (names.left() > 0) {
            uint32_t name_type = 0;
            std::string_view name;
            if (!names.u8(name_type) || !names.vector(2, name)) return std::nullopt;
            if (name_type == kHostName) return std::string(name);
        }
        return std::string();
    }
    return std::string();
}

// The handshake layer, reassembled from consecutive handshake records (a
// large ClientHello may span several).
FirstBytes read_tls(std::string_view bytes) {
    std::string handshake;
    Reader records(bytes);
    while (records.left() > 0) {
        uint32_t type = 0, major = 0, minor = 0;
        std::string_view fragment;
        if (!records.u8(type)) break;
        if (type != kHandshakeRecord) return {FirstBytes::unknown, ""};
        if (!records.u8(major) || !records.u8(minor)) break;
        if (major != 3) return {FirstBytes::unknown, ""};
        uint32_t length = 0;
        if (!records.u16(length)) break;
        if (length == 0 || length > 16384 + 2048) return {FirstBytes::unknown, ""};
        if (!records.bytes(length, fragment)) break;
        handshake.append(fragment);
        Reader h(handshake);
        uint32_t message = 0, message_length = 0;
        if (!h.u8(message) || !h.u24(message_length)) continue;
        if (message != kClientHello) return {FirstBytes::unknown, ""};
        std::string_view hello;
        if (!h.bytes(message_length, hello)) continue;
        auto name = server_name(hello);
        if (!name) return {FirstBytes::unknown, ""};
        return {FirstBytes::tls, *name};
    }
    if (bytes.size() >= kMaxFirstBytes) return {FirstBytes::unknown, ""};
    return {FirstBytes::incomplete, ""};
}

bool is_token_char(char c) { return (c >= 'A' && c <= 'Z') || c == '-'; }

FirstBytes read_http(std::string_view bytes) {
    // A method: upper-case letters, then a space (RFC 9110 methods in use).
    size_t i = 0;
    while (i < bytes.size() && i < 16 && is_token_char(bytes[i])) ++i;
    if (i < bytes.size() && (i == 0 || bytes[i] != ' ')) return {FirstBytes::unknown, ""};
    size_t end = find_head_end(bytes);
    if (end == std::string_view::npos)
        return {bytes.size() >= kMaxHttpHeadSize ? FirstBytes::unknown : FirstBytes::incomplete, ""};
    auto head = parse_http_head(bytes.substr(0, end));
    if (!head || !head->start_line_3.starts_with("HTTP/1.")) return {FirstBytes::unknown, ""};
    // Two Host headers: which one would the server use? Neither is trusted.
    size_t hosts = 0;
    for (const auto& [name, value] : head->headers)
        if (name.size() == 4 && (name[0] | 0x20) == 'h' && (name[1] | 0x20) == 'o' && (name[2] | 0x20) == 's' &&
            (name[3] | 0x20) == 't')
            ++hosts;
    if (hosts > 1) return {FirstBytes::unknown, ""};
    auto host = head->header("Host");
    if (!host) return {FirstBytes::http, ""};
    auto authority = parse_authority(*host, 80);
    if (!authority) return {FirstBytes::http, ""};
    return {FirstBytes::http, authority->host};
}

}  // namespace

FirstBytes read_first_bytes(std::string_view bytes) {
    if (bytes.empty()) return {FirstBytes::incomplete, ""};
    if (static_cast<uint8_t>(bytes[0]) == kHandshakeRecord) return read_tls(bytes);
    return read_http(bytes);
}

}  // namespace tether::hooks
