// The control protocol between the runtime and tether-netd.
//
// Transport: a SOCK_SEQPACKET unix socket at <state dir>/netd.sock (mode
// 0600, owned by root). One request, one reply, each a single packet of
// ASCII text (at most kMaxMessage bytes). The daemon serves one client at a
// time, in order.
//
//   request                          reply
//   "PING"                           "ok"                 (readiness)
//   "LISTENER" + SCM_RIGHTS(fd)      "ok" | "error <why>" (the seccomp notify
//                                    listener of the init, exactly one fd;
//                                    one per process tree: the init and
//                                    each process `tether exec` starts)
//   "PROXY_PORT?"                    "<port>"             (decimal; "0": no proxy)
//   "ENFORCEMENT?"                   "kernel" | "supervisor" (who decides the
//                                    container's inet calls: the cgroup socket
//                                    programs, or the seccomp supervisor, which
//                                    then needs a LISTENER)
//   "STOP"                           "ok", then the daemon exits (delete)
//   "FLUSH"                          "ok" once every decision made so far is
//                                    in decisions.jsonl (allowed calls' lines
//                                    may otherwise wait a few ms)
//   anything else                    "error unknown request"
//
// The runtime takes the listener from the init with pidfd_getfd (the init
// only writes its number: its own filter would trap a sendmsg) and sends it
// with send_request() below before `create` returns, so the supervisor holds
// it before the container's process runs.
//
// Header-only, so that the runtime can speak it without linking tether_hooks.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <string_view>

#include "runtime/core/error.hpp"
#include "runtime/core/fd_passing.hpp"
#include "runtime/core/unique_fd.hpp"
#include "runtime/core/unix_address.hpp"

namespace tether::hooks::protocol {

inline constexpr const char* kSocketName = "netd.sock";
inline constexpr const char* kPidFileName = "netd.pid";
inline constexpr const char* kDecisionLogName = "decisions.jsonl";

inline constexpr std::string_view kPing = "PING";
inline constexpr std::string_view kListener = "LISTENER";
inline constexpr std::string_view kProxyPort = "PROXY_PORT?";
inline constexpr std::string_view kEnforcement = "ENFORCEMENT?";
inline constexpr std::string_view kKernelEnforcement = "kernel";
inline constexpr std::string_view kSupervisorEnforcement = "supervisor";
inline constexpr std::string_view kStop = "STOP";
inline constexpr std::string_view kFlush = "FLUSH";
inline constexpr std::string_view kOk = "ok";
inline constexpr std::string_view kErrorPrefix = "error ";
inline constexpr size_t kMaxMessage = 512;

// tether-netd's flags for the egress proxy's timeouts (hooks/proxy/proxy_config.hpp),
// which tether passes on from its own flags of the same names. A DURATION
// ("30s", "10m", "500ms": spec/duration.hpp), greater than 0, at most a week:
// a longer idle tunnel is a leak, not a use.
inline constexpr const char* kProxyRequestHeadTimeoutFlag = "--proxy-request-head-timeout";
inline constexpr const char* kProxyIdleTimeoutFlag = "--proxy-idle-timeout";
inline constexpr std::chrono::milliseconds kMaxProxyTimeout = std::chrono::hours(24 * 7);

// Connects to <state_dir>/netd.sock. Throws tether::Error naming the path.
inline UniqueFd connect_control_socket(const std::string& state_dir) {
    std::string path = state_dir + "/" + kSocketName;
    UnixAddress address(path);  // any depth
    UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!fd) throw_errno("socket(AF_UNIX) for " + path);
    if (::connect(fd.get(), address.get(), address.size()) != 0) throw_errno("connect " + path);
    return fd;
}

// Sends one request (with `pass_fd` attached by SCM_RIGHTS when >= 0) and
// returns the reply. Throws tether::Error on a transport failure; an "error
// ..." reply is returned as is.
inline std::string send_request(int fd, std::string_view request, int pass_fd = -1) {
    if (send_with_fd(fd, request, pass_fd) < 0) throw_errno("netd: send " + std::string(request));
    char reply[kMaxMessage];
    ssize_t n = retry_eintr([&] { return ::recv(fd, reply, sizeof reply, 0); });
    if (n < 0) throw_errno("netd: reply to " + std::string(request));
    if (n == 0) throw Error("netd: closed the control socket on " + std::string(request));
    return std::string(reply, static_cast<size_t>(n));
}

}  // namespace tether::hooks::protocol
