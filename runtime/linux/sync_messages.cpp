#include "runtime/linux/sync_messages.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <charconv>

#include "runtime/core/error.hpp"

namespace tether::os {
namespace {

[[noreturn]] void malformed(const char* message, const std::string& payload) {
    throw Error(std::string("malformed ") + message + " message on the sync socket: \"" + payload + "\"");
}

// A decimal number in [0, max], the whole of `text`, else nullopt.
std::optional<unsigned long> parse_decimal(std::string_view text, unsigned long max) {
    unsigned long value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > max) return std::nullopt;
    return value;
}

std::string encode_fd(int fd) {
    if (fd < 0) throw Error("sync message: no fd to send");
    return std::to_string(fd);
}

int decode_fd(std::string_view text, const char* message, const std::string& payload) {
    std::optional<unsigned long> fd = parse_decimal(text, INT32_MAX);
    if (!fd) malformed(message, payload);
    return static_cast<int>(*fd);
}

constexpr std::string_view kKernelEnforced = "kernel_enforced";
constexpr std::string_view kProxyPort = "proxy_port=";
constexpr std::string_view kEnv = "env=";

const char* kind_name(ListenerKind kind) { return kind == ListenerKind::netd ? "netd" : "config"; }

}  // namespace

std::string GoMessage::encode() const { return hook_state; }

GoMessage GoMessage::decode(const std::string& payload) { return GoMessage{payload}; }

std::string HooksDoneMessage::encode() const {
    std::string text;
    if (kernel_enforced) text += std::string(kKernelEnforced) + "\n";
    if (proxy_port) text += std::string(kProxyPort) + std::to_string(*proxy_port) + "\n";
    for (const auto& entry : env) {
        // One line an entry: a newline would start a line of its own.
        if (entry.find('\n') != std::string::npos || entry.find('=') == 0 || entry.find('=') == std::string::npos)
            throw Error("hooks_done: not a KEY=VALUE environment entry: \"" + entry + "\"");
        text += std::string(kEnv) + entry + "\n";
    }
    return text;
}

HooksDoneMessage HooksDoneMessage::decode(const std::string& payload) {
    HooksDoneMessage message;
    std::string_view rest = payload;
    while (!rest.empty()) {
        size_t end = rest.find('\n');
        if (end == std::string_view::npos) malformed("hooks_done", payload);  // every line ends with one
        std::string_view line = rest.substr(0, end);
        rest.remove_prefix(end + 1);
        if (line == kKernelEnforced) {
            message.kernel_enforced = true;
        } else if (line.starts_with(kProxyPort)) {
            std::optional<unsigned long> port = parse_decimal(line.substr(kProxyPort.size()), 65535);
            if (!port || *port == 0) malformed("hooks_done", payload);
            message.proxy_port = static_cast<uint16_t>(*port);
        } else if (line.starts_with(kEnv)) {
            std::string_view entry = line.substr(kEnv.size());
            size_t equals = entry.find('=');
            if (equals == 0 || equals == std::string_view::npos) malformed("hooks_done", payload);
            message.env.emplace_back(entry);
        } else {
            malformed("hooks_done", payload);
        }
    }
    return message;
}

std::string ListenerFdMessage::encode() const { return std::string(kind_name(kind)) + ":" + encode_fd(fd); }

ListenerFdMessage ListenerFdMessage::decode(const std::string& payload) {
    size_t colon = payload.find(':');
    if (colon == std::string::npos) malformed("listener_fd", payload);
    std::string_view kind(payload.data(), colon);
    ListenerFdMessage message;
    if (kind == kind_name(ListenerKind::netd))
        message.kind = ListenerKind::netd;
    else if (kind == kind_name(ListenerKind::config))
        message.kind = ListenerKind::config;
    else
        malformed("listener_fd", payload);
    message.fd = decode_fd(std::string_view(payload).substr(colon + 1), "listener_fd", payload);
    return message;
}

std::string ConsoleFdMessage::encode() const { return encode_fd(fd); }

ConsoleFdMessage ConsoleFdMessage::decode(const std::string& payload) {
    return ConsoleFdMessage{decode_fd(payload, "console_fd", payload)};
}

UniqueFd take_fd(int pidfd, int number, const std::string& what) {
    UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd, number, 0)));
    if (!fd) throw_errno("pidfd_getfd " + what);
    return fd;
}

}  // namespace tether::os
