// Benchmarks of the network daemon's data paths (not a test: prints figures).
//   bridge: throughput and connection latency, direct loopback vs the
//           LoopbackBridge vs socat (what other sandboxes use);
//   proxy:  added latency per keep-alive HTTP request, and CONNECT throughput,
//           against a direct connection.
// Everything runs on 127.0.0.1 in the caller's namespace (the bridge's
// listener would normally live in the container's namespace; the data path is
// the same). Build and run with tests/bench/net/run.sh; old against new
// library with tests/bench/net/compare.sh.
//
// Made for a shared 2-core machine, where one run says more about the
// neighbours than about the relay:
// - every figure is taken in rounds, the paths alternating inside a round
//   (the order rotates), and shown as the median of the rounds with each
//   round's value or the min-max;
// - CPU per GiB and CPU per request (all threads of this process: client,
//   server, relay, with the softirq work they run) are the steadier figures;
// - the per-request time is the median of single-request samples (one
//   descheduled request moves a mean by tens of microseconds, not a median);
// - NET_BENCH_PIN=client,server,relay pins those threads to CPUs (e.g.
//   "0,1,1"); socat runs on the relay's CPU;
// - NET_BENCH_TSV=1 adds one "@ metric value" line per round and figure, for
//   compare.sh.
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
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

// CPUs from NET_BENCH_PIN ("client,server,relay"); -1: not pinned.
struct Pinning {
    int client = -1, server = -1, relay = -1;
};
Pinning pinning;

void pin_self(int cpu) {
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);  // 0: the calling thread
}

bool tsv = false;
// One machine-readable figure of the current round (compare.sh collects them).
void emit(const char* metric, double value) {
    if (tsv) std::printf("@ %s %.3f\n", metric, value);
}

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
        pin_self(pinning.server);
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

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

double percentile(std::vector<double> values, double p) {
    std::sort(values.begin(), values.end());
    return values[static_cast<size_t>(p * static_cast<double>(values.size() - 1))];
}

// Median microseconds for connect + one-byte echo + close.
double connection_latency_us(uint16_t port, int rounds) {
    std::vector<double> samples;
    samples.reserve(static_cast<size_t>(rounds));
    for (int i = 0; i < rounds; ++i) {
        auto start = Clock::now();
        UniqueFd fd = dial(port);
        char c = 'x';
        send_all(fd.get(), &c, 1);
        recv(fd.get(), &c, 1, 0);
        fd.reset();
        samples.push_back(seconds_since(start) * 1e6);
    }
    return median(samples);
}

// Keep-alive HTTP requests on one connection, each timed alone (send the
// request, read the whole response).
struct RequestFigures {
    double median_us = 0, p10_us = 0, p90_us = 0;
    double cpu_us = 0;  // CPU of this process per request (client, server, proxy)
};

// target_prefix is "" (direct) or an absolute URL prefix (through the proxy).
RequestFigures request_latency(uint16_t port, const std::string& target_prefix, int rounds) {
    UniqueFd fd = dial(port);
    std::string request = "GET " + target_prefix + "/ HTTP/1.1\r\nHost: bench.test\r\n\r\n";
    const size_t expected = std::strlen("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    char buf[256];
    auto one = [&] {
        send_all(fd.get(), request.data(), request.size());
        for (size_t got = 0; got < expected;) {
            ssize_t n = recv(fd.get(), buf, sizeof buf, 0);
            if (n <= 0) return false;
            got += static_cast<size_t>(n);
        }
        return true;
    };
    for (int i = 0; i < 50; ++i) one();  // warm-up: the proxy dials its upstream on the first
    std::vector<double> samples;
    samples.reserve(static_cast<size_t>(rounds));
    double cpu_start = process_cpu_seconds();
    for (int i = 0; i < rounds; ++i) {
        auto start = Clock::now();
        if (!one()) return {};
        samples.push_back(seconds_since(start) * 1e6);
    }
    RequestFigures figures;
    figures.cpu_us = (process_cpu_seconds() - cpu_start) * 1e6 / rounds;
    figures.median_us = median(samples);
    figures.p10_us = percentile(samples, 0.1);
    figures.p90_us = percentile(samples, 0.9);
    return figures;
}

pid_t start_socat(uint16_t listen_port, uint16_t target_port) {
    pid_t pid = fork();
    if (pid == 0) {
        pin_self(pinning.relay);
        std::string listen = "TCP-LISTEN:" + std::to_string(listen_port) + ",bind=127.0.0.1,reuseaddr,fork";
        std::string target = "TCP:127.0.0.1:" + std::to_string(target_port) + ",nodelay";
        // -b 1 MiB: socat's default 8 KiB buffer would make it look slower than it can be.
        execlp("socat", "socat", "-b", "1048576", listen.c_str(), target.c_str(), nullptr);
        _exit(127);
    }
    return pid;
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

// Median and "min-max" of one figure over the rounds.
std::string summary(const std::vector<double>& values, const char* format = "%.0f") {
    char text[32];
    std::snprintf(text, sizeof text, format, median(values));
    return std::string(text) + " (" + spread(values, format) + ")";
}

std::vector<double> percent(const std::vector<double>& a, const std::vector<double>& b) {
    std::vector<double> out;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) out.push_back(100 * a[i] / b[i]);
    return out;
}

Pinning parse_pinning(const char* text) {
    Pinning p;
    if (text && *text) std::sscanf(text, "%d,%d,%d", &p.client, &p.server, &p.relay);
    return p;
}

}  // namespace

int main(int argc, char** argv) {
    signal(SIGPIPE, SIG_IGN);
    size_t total = (argc > 1 ? std::stoul(argv[1]) : 256ul) << 20;  // MiB per throughput run
    int rounds = argc > 2 ? std::stoi(argv[2]) : 5000;           // requests (and connections) per round
    int repeats = argc > 3 ? std::stoi(argv[3]) : 7;              // alternated rounds
    pinning = parse_pinning(std::getenv("NET_BENCH_PIN"));
    tsv = std::getenv("NET_BENCH_TSV") && *std::getenv("NET_BENCH_TSV") == '1';
    // NET_BENCH_ONLY=throughput|connections|requests: one part (for perf and strace).
    std::string only = std::getenv("NET_BENCH_ONLY") ? std::getenv("NET_BENCH_ONLY") : "";
    auto part = [&](const char* name) { return only.empty() || only == name; };
    pin_self(pinning.client);

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
    std::thread loop_thread([&] {
        pthread_setname_np(pthread_self(), "relay");  // for perf and strace
        pin_self(pinning.relay);
        loop.run();
    });

    uint16_t socat_discard = free_port(), socat_echo = free_port();
    pid_t socat1 = start_socat(socat_discard, discard.port());
    pid_t socat2 = start_socat(socat_echo, echo.port());

    std::printf("load %s", [] {
        static char text[64] = "?\n";
        if (FILE* f = std::fopen("/proc/loadavg", "r")) {
            if (!std::fgets(text, sizeof text, f)) text[0] = 0;
            std::fclose(f);
        }
        return text;
    }());
    std::printf("pinning (client,server,relay): %d,%d,%d\n", pinning.client, pinning.server, pinning.relay);

    // Throughput: direct, bridge, CONNECT tunnel and socat in every round, the
    // order rotating; every figure of a round saw the same neighbours.
    std::string connect = "CONNECT bench.test:" + std::to_string(discard.port()) + " HTTP/1.1\r\n\r\n";
    const size_t connect_reply = std::strlen("HTTP/1.1 200 Connection established\r\n\r\n");
    std::printf("bridge throughput (%zu MiB one way, MiB/s, median of %d alternated rounds):\n", total >> 20, repeats);
    std::vector<double> directs, bridgeds, socats, tunnels, direct_cpus, bridge_cpus, tunnel_cpus;
    for (int i = 0; i < repeats && part("throughput"); ++i) {
        double d = 0, b = 0, t = 0, s = 0, dc = 0, bc = 0, tc = 0;
        for (int k = 0; k < 4; ++k) {
            switch ((k + i) % 4) {
                case 0: d = throughput(discard.port(), total), dc = last_cpu_ms_per_gib; break;
                case 1: b = throughput(bridge_discard, total), bc = last_cpu_ms_per_gib; break;
                case 2: t = throughput(proxy_port, total, connect, connect_reply), tc = last_cpu_ms_per_gib; break;
                case 3: s = throughput(socat_discard, total); break;
            }
        }
        directs.push_back(d), bridgeds.push_back(b), tunnels.push_back(t), socats.push_back(s);
        direct_cpus.push_back(dc), bridge_cpus.push_back(bc), tunnel_cpus.push_back(tc);
        std::printf("  run %d: direct %.0f  tether-bridge %.0f  proxy CONNECT %.0f  socat %.0f   (CPU ms/GiB: direct %.0f, "
                    "bridge %.0f, CONNECT %.0f)\n",
                    i + 1, d, b, t, s, dc, bc, tc);
        emit("direct_mibs", d), emit("bridge_mibs", b), emit("connect_mibs", t), emit("socat_mibs", s);
        emit("bridge_pct", 100 * b / d), emit("connect_pct", 100 * t / d), emit("socat_pct", 100 * s / d);
        emit("direct_cpu_ms_gib", dc), emit("bridge_cpu_ms_gib", bc), emit("connect_cpu_ms_gib", tc);
    }
    if (directs.empty()) directs = bridgeds = socats = tunnels = direct_cpus = bridge_cpus = tunnel_cpus = {0};
    double direct = median(directs), bridged = median(bridgeds), socat = median(socats);
    std::printf("  direct %.0f  tether-bridge %.0f (%.0f%%)  socat %.0f (%.0f%%)\n", direct, bridged,
                100 * bridged / direct, socat, 100 * socat / direct);
    std::printf("  spread (min-max): direct %s  tether-bridge %s  socat %s\n", spread(directs).c_str(),
                spread(bridgeds).c_str(), spread(socats).c_str());
    std::printf("  bridge / direct per run: %s (median %.0f%%)\n", ratios(bridgeds, directs).c_str(),
                median(percent(bridgeds, directs)));
    std::printf("  CPU ms per GiB (this process), median (min-max): direct %s  tether-bridge %s  proxy CONNECT %s\n",
                summary(direct_cpus).c_str(), summary(bridge_cpus).c_str(), summary(tunnel_cpus).c_str());
    std::printf("  CPU per GiB over direct: tether-bridge %.2fx  proxy CONNECT %.2fx\n",
                median(bridge_cpus) / median(direct_cpus), median(tunnel_cpus) / median(direct_cpus));

    std::printf("connection latency (connect + 1-byte echo + close, %d per round, us, median of the samples, median of %d):\n",
                rounds / 4, repeats);
    std::vector<double> lat_directs{0}, lat_bridges{0}, lat_socats{0};
    if (part("connections")) lat_directs.clear(), lat_bridges.clear(), lat_socats.clear();
    for (int i = 0; i < repeats && part("connections"); ++i) {
        lat_directs.push_back(connection_latency_us(echo.port(), rounds / 4));
        lat_bridges.push_back(connection_latency_us(bridge_echo, rounds / 4));
        lat_socats.push_back(connection_latency_us(socat_echo, rounds / 4));
        emit("conn_direct_us", lat_directs.back()), emit("conn_bridge_us", lat_bridges.back());
    }
    std::printf("  direct %.1f  tether-bridge %.1f  socat %.1f\n", median(lat_directs), median(lat_bridges),
                median(lat_socats));

    std::printf("proxy, keep-alive HTTP request latency (%d requests per round, us, median of the samples, median of %d "
                "alternated rounds):\n",
                rounds, repeats);
    std::string proxied = "http://bench.test:" + std::to_string(http.port());
    std::vector<double> req_directs, req_proxies, added, cpu_directs, cpu_proxies, cpu_added;
    for (int i = 0; i < repeats && part("requests"); ++i) {
        RequestFigures d, p;
        if (i % 2 == 0) {
            d = request_latency(http.port(), "", rounds);
            p = request_latency(proxy_port, proxied, rounds);
        } else {
            p = request_latency(proxy_port, proxied, rounds);
            d = request_latency(http.port(), "", rounds);
        }
        req_directs.push_back(d.median_us), req_proxies.push_back(p.median_us);
        added.push_back(p.median_us - d.median_us);
        cpu_directs.push_back(d.cpu_us), cpu_proxies.push_back(p.cpu_us), cpu_added.push_back(p.cpu_us - d.cpu_us);
        std::printf("  run %d: direct %.1f (p10-p90 %.1f-%.1f)  via proxy %.1f (%.1f-%.1f)  added %+.1f;  CPU us/request: "
                    "direct %.1f  via proxy %.1f  added %+.1f\n",
                    i + 1, d.median_us, d.p10_us, d.p90_us, p.median_us, p.p10_us, p.p90_us, added.back(), d.cpu_us,
                    p.cpu_us, cpu_added.back());
        emit("req_direct_us", d.median_us), emit("req_proxy_us", p.median_us), emit("req_added_us", added.back());
        emit("req_cpu_added_us", cpu_added.back());
    }
    if (req_directs.empty()) req_directs = req_proxies = added = cpu_directs = cpu_proxies = cpu_added = {0};
    std::printf("  direct %.1f  via proxy %.1f  added %.1f\n", median(req_directs), median(req_proxies), median(added));
    std::printf("  added per run (min-max): %s\n", spread(added, "%.1f").c_str());
    std::printf("  CPU per request, median (min-max): direct %s  via proxy %s  added %s us\n",
                summary(cpu_directs, "%.1f").c_str(), summary(cpu_proxies, "%.1f").c_str(),
                summary(cpu_added, "%.1f").c_str());

    double tunnel = median(tunnels);
    std::printf("proxy CONNECT throughput (MiB/s): direct %.0f  via proxy %.0f (%.0f%%)\n", direct, tunnel,
                100 * tunnel / direct);
    std::printf("  spread (min-max): %s; CONNECT / direct per run: %s (median %.0f%%)\n", spread(tunnels).c_str(),
                ratios(tunnels, directs).c_str(), median(percent(tunnels, directs)));

    kill(socat1, SIGTERM);
    kill(socat2, SIGTERM);
    waitpid(socat1, nullptr, 0);
    waitpid(socat2, nullptr, 0);
    loop.stop();
    loop_thread.join();
    std::fflush(stdout);
    _exit(0);  // detached server threads are still blocked in recv/accept
}
