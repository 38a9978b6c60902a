// The decision log: one JSON line per allow/deny decision of the supervisor
// (and of the egress proxy), appended to <state dir>/decisions.jsonl, and the
// readable table `tether-netd decisions` prints from it.
//
// A line looks like
//   {"time":"2025-01-02T03:04:05.678Z","id":"c1","pid":42,"comm":"curl",
//    "syscall":"connect","family":"inet","address":"127.0.0.1","port":8000,
//    "verdict":"deny","rule":"host-loopback-port-not-allowed",
//    "annotation":"run.tether.network.allowLocalOutboundPorts"}
// verdict is "allow", "deny", or "audit-deny" (audit mode: would have been
// denied, was allowed). annotation names the key that would allow a denied
// attempt ("" when no annotation can).
//
// Lines of the egress proxy (syscall "proxy") and of the loopback bridge
// (syscall "bridge") describe a whole connection and carry five more fields:
//   "protocol":"connect"|"http"|"socks5"|"tcp", "upstream":"127.0.0.1:8443"
//   (the address dialled, "" when none was), "bytes_up" (container ->
//   upstream), "bytes_down", "duration_ms", "error" (why an allowed request
//   failed: "connect: Connection refused"; "" otherwise).
// Lines of the DNS responder (syscall "dns", issue 21) carry "qtype" ("A",
// "TXT", ...), "answer" (the addresses given, comma-separated) and "error".
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <istream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "hooks/common/rotating_log.hpp"
#include "runtime/core/unique_fd.hpp"

namespace tether::hooks {

struct Decision {
    std::string time;  // filled by DecisionLog::write when empty
    std::string container_id;
    int pid = 0;
    std::string comm;
    std::string syscall;  // connect | bind | sendto | sendmsg | sendmmsg | proxy
    std::string family;   // inet | inet6 | unix | ...
    std::string address;  // numeric address as the kernel would use it, or a host name (proxy)
    uint16_t port = 0;
    std::string verdict;  // allow | deny | audit-deny
    std::string rule;
    std::string annotation;
    // Connection lines only (syscall "proxy" or "bridge"), see above.
    std::string protocol;
    std::string upstream;
    uint64_t bytes_up = 0;
    uint64_t bytes_down = 0;
    double duration_ms = 0;
    std::string error;
    // Kubernetes' io.kubernetes.pod.name / .namespace annotations, so that a
    // cluster's log shipper can attribute the line ("" when absent).
    std::string pod_name;
    std::string pod_namespace;

    bool is_connection() const { return syscall == "proxy" || syscall == "bridge"; }
    // The container's DNS responder (syscall "dns"): address is the name
    // asked for, protocol the query type (written as "qtype"), upstream the
    // addresses answered (written as "answer", comma-separated).
    bool is_dns() const { return syscall == "dns"; }
};

// One JSON object, no trailing newline.
std::string decision_to_json(const Decision& decision);
// The inverse, for the table; nullopt for lines that are not decisions.
std::optional<Decision> decision_from_json(std::string_view line);

// Current UTC time as RFC 3339 with milliseconds ("...T03:04:05.678Z").
std::string utc_timestamp(std::chrono::system_clock::time_point when);
inline std::string utc_timestamp_now() { return utc_timestamp(std::chrono::system_clock::now()); }

// Appends decision lines to a file. Each line goes out in one write() on an
// O_APPEND fd, so lines from the supervisor and the proxy threads (and from
// several processes) never interleave. Thread-safe.
// Lines reach the file in the order they were written. write() appends at
// once (after any line still waiting); write_soon() lets a decision wait up
// to kFlushDelay so that a burst of them costs one write(2) instead of one
// each, and is formatted by the flusher thread, off the caller's path: the
// supervisor logs every allowed connect that way, and formatting and
// writing a line per connect was a measurable part of its cost
// (docs/benchmarks.md). Its time is taken when write_soon() is called. A
// waiting decision is written by the flusher thread, by the next write(),
// by flush(), or when the log is destroyed.
class DecisionLog {
public:
    static constexpr std::chrono::milliseconds kFlushDelay{5};

    DecisionLog() = default;  // a log that discards everything
    explicit DecisionLog(const std::string& path);  // throws tether::Error
    explicit DecisionLog(UniqueFd fd) : fd_(std::move(fd)) {}
    ~DecisionLog();
    DecisionLog(const DecisionLog&) = delete;
    DecisionLog& operator=(const DecisionLog&) = delete;

    void write(Decision decision);
    void write_soon(Decision decision);
    void flush();

    // Every line also goes to `trail` (the audit trail that outlives the
    // container, hooks/common/rotating_log.hpp). Set before the first write.
    void add_audit_trail(std::unique_ptr<RotatingLog> trail) { trail_ = std::move(trail); }
    // Stamped on every line (Decision::pod_name, pod_namespace).
    void set_pod(std::string name, std::string pod_namespace) {
        pod_name_ = std::move(name);
        pod_namespace_ = std::move(pod_namespace);
    }

private:
    // Takes the waiting decisions and writes them, then `line`; releases
    // `lock` (on mutex_) before formatting.
    void write_out(std::unique_lock<std::mutex>& lock, const std::string& line);
    void append(const std::string& text);  // file_mutex_ held
    void flusher_loop();

    void stamp(Decision& decision) const;

    UniqueFd fd_;
    std::unique_ptr<RotatingLog> trail_;
    std::string pod_name_, pod_namespace_;
    std::mutex mutex_;       // waiting_, stopping_
    std::mutex file_mutex_;  // taken before mutex_ is released: the file's order is mutex_'s
    std::condition_variable wake_flusher_;
    struct Waiting {
        Decision decision;
        std::chrono::system_clock::time_point at;
    };
    std::vector<Waiting> waiting_;  // decisions of write_soon() not yet written
    bool stopping_ = false;
    std::thread flusher_;  // started by the first write_soon()
};

// Reads decision lines; keeps the last `limit` (0 = all), only denials
// ("deny" and "audit-deny") when denials_only.
std::vector<Decision> read_decisions(std::istream& in, size_t limit, bool denials_only);

// A fixed-width table: TIME PID COMM SYSCALL DESTINATION VERDICT RULE ANNOTATION.
std::string format_decision_table(const std::vector<Decision>& decisions);

}  // namespace tether::hooks
