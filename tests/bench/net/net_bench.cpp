// Benchmarks of the network daemon's data paths (not a test: prints figures).
//   bridge: throughput and connection latency, direct loopback vs the
//           LoopbackBridge vs socat (what other sandboxes use);
//   proxy:  added latency per keep-alive HTTP request, and CONNECT throughput,
//           against a direct connection.
// Everything runs on 127.0.0.1 in the caller's namespace (the bridge's
// listener would normally live in the container's namespace; the data path is
// the same). Build and run with tests/bench/net/run.sh.
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "hooks/bridge/loopback_bridge.hpp"
#include "hooks/proxy/egress_proxy.hpp"

using namespace tether;
using namespace tether::hooks;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

UniqueFd dial(uint16_t port) {
    UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    SocketAddress addr = loopback_v4(port);
    for (int i = 0; i < 200 && connect(fd.get(), addr.get(), addr.length) != 0; ++i) {
        fd.reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        usleep(10000);  // socat may still be starting
    }
    set_nodelay(fd.get());
    return fd;
}

bool send_all(int fd, const char* data, size_t size) {
    while (size) {
        ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
        if (n <= 0) return false;
        data += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

// A blocking server: mode 'd' discards and answers the byte count at EOF,
// mode 'e' echoes, mode 'h' answers every HTTP request head with a small 200.
class Server {
public:
    explicit Server(char mode) : mode_(mode), listener_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
        SocketAddress addr = loopback_v4(0);
        bind(listener_.get(), addr.get(), addr.length);
        listen(listener_.get(), 1024);
        port_ = local_port(listener_.get());
        std::thread([this] {
            for (;;) {
                int fd = accept(listener_.get(), nullptr, nullptr);
                if (fd < 0) return;
                std::thread([this, fd] { serve(UniqueFd(fd)); }).detach();
            }
        }).detach();
    }
    uint16_t port() const { return port_; }

private:
    void serve(UniqueFd fd) {
        set_nodelay(fd.get());
        std::vector<char> buf(1 << 20);
        std::string pending;
        for (;;) {
            ssize_t n = recv(fd.get(), buf.data(), buf.size(), 0);
            if (n <= 0) return;
            if (mode_ == 'e') {
                if (!send_all(fd.get(), buf.data(), static_cast<size_t>(n))) return;
            } else if (mode_ == 'h') {
                pending.append(buf.data(), static_cast<size_t>(n));
                size_t end;
                while ((end = pending.find("\r\n\r\n")) != std::string::npos) {
                    pending.erase(0, end + 4);
                    static const char kResponse[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                    if (!send_all(fd.get(), kResponse, sizeof kResponse - 1)) return;
                }
            }
        }
    }
    char mode_;
    UniqueFd listener_;
    uint16_t port_ = 0;
};

double process_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}
// CPU of this process (client, server and, for the bridge, the relay thread,
// with the softirq work they run) per GiB, of the last throughput() call. On a
// shared machine the steadier figure: wall-clock throughput there mostly
// measures the neighbours. socat runs in its own process: not counted.
double last_cpu_ms_per_gib = 0;

// MB/s of sending `total` bytes one way (server discards), after an optional preamble.
double throughput(uint16_t port, size_t total, const std::string& preamble = {}, size_t reply_bytes = 0) {
    double cpu_start = process_cpu_seconds();
    UniqueFd fd = dial(port);
    if (!preamble.empty()) {
        send_all(fd.get(), preamble.data(), preamble.size());
        std::vector<char> reply(reply_bytes);
        recv(fd.get(), reply.data(), reply.size(), MSG_WAITALL);
    }
    std::vector<char> chunk(1 << 20, 'x');
    auto start = Clock::now();
    for (size_t sent = 0; sent < total; sent += chunk.size()) send_all(fd.get(), chunk.data(), chunk.size());
    shutdown(fd.get(), SHUT_WR);
    char c;
    recv(fd.get(), &c, 1, 0);  // EOF once the server has read everything
    last_cpu_ms_per_gib = (process_cpu_seconds() - cpu_start) * 1000 / (static_cast<double>(total) / (1 << 30));
    return static_cast<double>(total) / (1 << 20) / seconds_since(start);
}

// Mean microseconds for connect + one-byte echo + close.
double connection_latency_us(uint16_t port, int rounds) {
    auto start = Clock::now();
    for (int i = 0; i < rounds; ++i) {
        UniqueFd fd = dial(port);
        char c = 'x';
        send_all(fd.get(), &c, 1);
        recv(fd.get(), &c, 1, 0);
    }
    return seconds_since(start) * 1e6 / rounds;
}

// Mean microseconds per keep-alive HTTP request; target is "" (direct) or an absolute URL prefix.
double request_latency_us(uint16_t port, const std::string& target_prefix, int rounds) {
    UniqueFd fd = dial(port);
    std::string request = "GET " + target_prefix + "/ HTTP/1.1\r\nHost: bench.test\r\n\r\n";
    char buf[256];
    auto start = Clock::now();
    for (int i = 0; i < rounds; ++i) {
        send_all(fd.get(), request.data(), request.size());
        size_t got = 0;
        const size_t expected = std::strlen("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        while (got < expected) {
            ssize_t n = recv(fd.get(), buf, sizeof buf, 0);
            if (n <= 0) return -1;
            got += static_cast<size_t>(n);
        }
    }
    return seconds_since(start) * 1e6 / rounds;
}

pid_t start_socat(uint16_t listen_port, uint16_t target_port) {
    pid_t pid = fork();
    if (pid == 0) {
        std::string listen = "TCP-LISTEN:" + std::to_string(listen_port) + ",bind=127.0.0.1,reuseaddr,fork";
        std::string target = "TCP:127.0.0.1:" + std::to_string(target_port) + ",nodelay";
        // -b 1 MiB: socat's default 8 KiB buffer would make it look slower than it can be.
        execlp("socat", "socat", "-b", "1048576", listen.c_str(), target.c_str(), nullptr);
        _exit(127);
    }
    return pid;
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

// "min-max" of the runs: the spread the medians hide.
std::string spread(const std::vector<double>& values, const char* format = "%.0f") {
    auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    char text[64];
    std::string f = std::string(format) + "-" + format;
    std::snprintf(text, sizeof text, f.c_str(), *lo, *hi);
    return text;
}

// Each run's ratio a[i] / b[i] in percent: how far one run's figure says
// anything on a shared machine.
std::string ratios(const std::vector<double>& a, const std::vector<double>& b) {
    std::string out;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
        char text[16];
        std::snprintf(text, sizeof text, "%s%.0f%%", i ? " " : "", 100 * a[i] / b[i]);
        out += text;
    }
    return out;
}

uint16_t free_port() {
    UniqueFd fd = listen_tcp(loopback_v4(0));
    return local_port(fd.get());
}

}  // namespace

int main(int argc, char** argv) {
    signal(SIGPIPE, SIG_IGN);
    size_t total = (argc > 1 ? std::stoul(argv[1]) : 2048ul) << 20;  // MiB
    int rounds = argc > 2 ? std::stoi(argv[2]) : 2000;
    int repeats = argc > 3 ? std::stoi(argv[3]) : 5;

    Server discard('d'), echo('e'), http('h');
    EventLoop loop;
    LoopbackBridge bridge(loop);
    UniqueFd discard_listener = listen_tcp(loopback_v4(0));
    UniqueFd echo_listener = listen_tcp(loopback_v4(0));
    uint16_t bridge_discard = local_port(discard_listener.get()), bridge_echo = local_port(echo_listener.get());
    bridge.add_listener(std::move(discard_listener), loopback_v4(discard.port()));
    bridge.add_listener(std::move(echo_listener), loopback_v4(echo.port()));

    ProxyConfig config;
    config.allowed_domains = {"bench.test"};
    config.allow_private_upstreams = {"127.0.0.0/8"};
    config.resolve = [](const std::string&, uint16_t port) { return std::vector<SocketAddress>{loopback_v4(port)}; };
    EgressProxy proxy(loop, config);
    UniqueFd proxy_listener = listen_tcp(loopback_v4(0));
    uint16_t proxy_port = local_port(proxy_listener.get());
    proxy.add_listener(std::move(proxy_listener));
    std::thread loop_thread([&] { loop.run(); });

    uint16_t socat_discard = free_port(), socat_echo = free_port();
    pid_t socat1 = start_socat(socat_discard, discard.port());
    pid_t socat2 = start_socat(socat_echo, echo.port());

    // Interleaved repetitions, medians: on a shared 2-core machine one run of each
    // says more about the neighbours than about the bridge.
    // The proxy's CONNECT tunnel runs in the same rounds: every figure of a
    // round saw the same neighbours.
    std::string connect = "CONNECT bench.test:" + std::to_string(discard.port()) + " HTTP/1.1\r\n\r\n";
    const size_t connect_reply = std::strlen("HTTP/1.1 200 Connection established\r\n\r\n");
    std::printf("bridge throughput (%zu MiB one way, MiB/s, median of %d interleaved runs):\n", total >> 20, repeats);
    std::vector<double> directs, bridgeds, socats, tunnels, direct_cpus, bridge_cpus, tunnel_cpus;
    for (int i = 0; i < repeats; ++i) {
        directs.push_back(throughput(discard.port(), total));
        direct_cpus.push_back(last_cpu_ms_per_gib);
        bridgeds.push_back(throughput(bridge_discard, total));
        bridge_cpus.push_back(last_cpu_ms_per_gib);
        tunnels.push_back(throughput(proxy_port, total, connect, connect_reply));
        tunnel_cpus.push_back(last_cpu_ms_per_gib);
        socats.push_back(throughput(socat_discard, total));
        std::printf("  run %d: direct %.0f  tether-bridge %.0f  proxy CONNECT %.0f  socat %.0f   (CPU ms/GiB: direct %.0f, "
                    "bridge %.0f, CONNECT %.0f)\n",
                    i + 1, directs.back(), bridgeds.back(), tunnels.back(), socats.back(), direct_cpus.back(),
                    bridge_cpus.back(), tunnel_cpus.back());
    }
    double direct = median(directs), bridged = median(bridgeds), socat = median(socats);
    std::printf("  direct %.0f  tether-bridge %.0f (%.0f%%)  socat %.0f (%.0f%%)\n", direct, bridged,
                100 * bridged / direct, socat, 100 * socat / direct);
    std::printf("  spread (min-max): direct %s  tether-bridge %s  socat %s\n", spread(directs).c_str(),
                spread(bridgeds).c_str(), spread(socats).c_str());
    std::printf("  bridge / direct per run: %s\n", ratios(bridgeds, directs).c_str());
    std::printf("  CPU ms per GiB (this process): direct %.0f  tether-bridge %.0f  proxy CONNECT %.0f\n",
                median(direct_cpus), median(bridge_cpus), median(tunnel_cpus));

    std::printf("connection latency (connect + 1-byte echo + close, %d rounds, us, median of %d):\n", rounds, repeats);
    std::vector<double> lat_directs, lat_bridges, lat_socats;
    for (int i = 0; i < repeats; ++i) {
        lat_directs.push_back(connection_latency_us(echo.port(), rounds));
        lat_bridges.push_back(connection_latency_us(bridge_echo, rounds));
        lat_socats.push_back(connection_latency_us(socat_echo, rounds));
    }
    std::printf("  direct %.1f  tether-bridge %.1f  socat %.1f\n", median(lat_directs), median(lat_bridges),
                median(lat_socats));

    std::printf("proxy, keep-alive HTTP request latency (%d requests, us, median of %d interleaved runs):\n", rounds,
                repeats);
    std::vector<double> req_directs, req_proxies, added;
    for (int i = 0; i < repeats; ++i) {
        req_directs.push_back(request_latency_us(http.port(), "", rounds));
        req_proxies.push_back(request_latency_us(proxy_port, "http://bench.test:" + std::to_string(http.port()), rounds));
        added.push_back(req_proxies.back() - req_directs.back());
    }
    std::printf("  direct %.1f  via proxy %.1f  added %.1f\n", median(req_directs), median(req_proxies), median(added));
    std::printf("  added per run (min-max): %s\n", spread(added, "%.1f").c_str());

    double tunnel = median(tunnels);
    std::printf("proxy CONNECT throughput (MiB/s): direct %.0f  via proxy %.0f (%.0f%%)\n", direct, tunnel,
                100 * tunnel / direct);
    std::printf("  spread (min-max): %s; CONNECT / direct per run: %s\n", spread(tunnels).c_str(),
                ratios(tunnels, directs).c_str());

    kill(socat1, SIGTERM);
    kill(socat2, SIGTERM);
    waitpid(socat1, nullptr, 0);
    waitpid(socat2, nullptr, 0);
    loop.stop();
    loop_thread.join();
    std::fflush(stdout);
    _exit(0);  // detached server threads are still blocked in recv/accept
}
