#include "runtime/lifecycle/netd_client.hpp"

#include <signal.h>

#include "hooks/protocol.hpp"
#include "runtime/core/error.hpp"
#include "runtime/core/fs.hpp"

namespace tether {
namespace protocol = hooks::protocol;

NetdInfo query_network_daemon(const std::string& state_dir) {
    NetdInfo info;
    std::string pid_text = fs::read_file(state_dir + "/" + protocol::kPidFileName, 64);
    info.pid = static_cast<pid_t>(std::stol(pid_text));
    UniqueFd control = protocol::connect_control_socket(state_dir);
    std::string reply = protocol::send_request(control.get(), protocol::kProxyPort);
    if (reply.rfind(protocol::kErrorPrefix, 0) == 0) throw Error("tether-netd: " + reply);
    unsigned long port = std::stoul(reply);
    if (port > 65535) throw Error("tether-netd: bad proxy port " + reply);
    info.proxy_port = static_cast<uint16_t>(port);
    std::string enforcement = protocol::send_request(control.get(), protocol::kEnforcement);
    if (enforcement == protocol::kKernelEnforcement) info.kernel_enforced = true;
    else if (enforcement != protocol::kSupervisorEnforcement) throw Error("tether-netd: enforcement: " + enforcement);
    return info;
}

void hand_listener_to_netd(const std::string& state_dir, int listener_fd) {
    UniqueFd control = protocol::connect_control_socket(state_dir);
    std::string reply = protocol::send_request(control.get(), protocol::kListener, listener_fd);
    if (reply != protocol::kOk) throw Error("tether-netd refused the seccomp listener: " + reply);
}

void stop_network_daemon(const std::string& state_dir) {
    try {
        UniqueFd control = protocol::connect_control_socket(state_dir);
        protocol::send_request(control.get(), protocol::kStop);
    } catch (const std::exception&) {
        try {
            pid_t pid = static_cast<pid_t>(std::stol(fs::read_file(state_dir + "/" + protocol::kPidFileName, 64)));
            if (pid > 0) ::kill(pid, SIGTERM);
        } catch (const std::exception&) {
        }
    }
}

void flush_network_daemon_log(const std::string& state_dir) {
    try {
        UniqueFd control = protocol::connect_control_socket(state_dir);
        protocol::send_request(control.get(), protocol::kFlush);
    } catch (const std::exception&) {
    }
}

std::vector<std::string> proxy_environment(uint16_t port) {
    std::string url = "http://127.0.0.1:" + std::to_string(port);
    return {"HTTP_PROXY=" + url,  "HTTPS_PROXY=" + url,  "ALL_PROXY=" + url,
            "http_proxy=" + url,  "https_proxy=" + url,  "all_proxy=" + url,
            "NO_PROXY=localhost,127.0.0.1,::1", "no_proxy=localhost,127.0.0.1,::1"};
}

}  // namespace tether
