#include "hooks/common/decision_log.hpp"

#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <deque>
#include <system_error>

#include "hooks/common/json_text.hpp"
#include "runtime/core/error.hpp"

namespace tether::hooks {

std::string utc_timestamp(std::chrono::system_clock::time_point when) {
    auto seconds = std::chrono::system_clock::to_time_t(when);
    auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count() % 1000;
    struct tm utc {};
    gmtime_r(&seconds, &utc);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                  utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(millis));
    return buf;
}

std::string decision_to_json(const Decision& d) {
    std::string out = "{";
    auto field = [&](const char* key, std::string_view value) {
        if (out.size() > 1) out.push_back(',');
        append_json_string(out, key);
        out.push_back(':');
        append_json_string(out, value);
    };
    auto number = [&](const char* key, auto value) {
        out.push_back(',');
        append_json_string(out, key);
        out.push_back(':');
        out += std::to_string(value);
    };
    field("time", d.time);
    field("id", d.container_id);
    number("pid", d.pid);
    field("comm", d.comm);
    field("syscall", d.syscall);
    field("family", d.family);
    field("address", d.address);
    number("port", d.port);
    field("verdict", d.verdict);
    field("rule", d.rule);
    field("annotation", d.annotation);
    if (!d.pod_name.empty()) field("pod", d.pod_name);
    if (!d.pod_namespace.empty()) field("namespace", d.pod_namespace);
    if (d.is_connection()) {
        field("protocol", d.protocol);
        field("upstream", d.upstream);
        number("bytes_up", d.bytes_up);
        number("bytes_down", d.bytes_down);
        // Milliseconds with microsecond precision; std::to_string(double)
        // would depend on the locale and print six decimals.
        char duration[32];
        std::snprintf(duration, sizeof duration, "%.3f", d.duration_ms);
        out += ",\"duration_ms\":";
        out += duration;
        field("error", d.error);
    } else if (d.is_dns()) {
        field("qtype", d.protocol);
        field("answer", d.upstream);
        field("error", d.error);
    }
    out.push_back('}');
    return out;
}

namespace {

void skip_spaces(std::string_view text, size_t& pos) {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\r')) ++pos;
}

// Reads one flat JSON object of string and integer values.
bool read_flat_object(std::string_view text, std::vector<std::pair<std::string, std::string>>& fields) {
    size_t pos = 0;
    skip_spaces(text, pos);
    if (pos >= text.size() || text[pos++] != '{') return false;
    skip_spaces(text, pos);
    if (pos < text.size() && text[pos] == '}') return true;
    while (pos < text.size()) {
        std::string key, value;
        skip_spaces(text, pos);
        if (!read_json_string(text, pos, key)) return false;
        skip_spaces(text, pos);
        if (pos >= text.size() || text[pos++] != ':') return false;
        skip_spaces(text, pos);
        if (pos < text.size() && text[pos] == '"') {
            if (!read_json_string(text, pos, value)) return false;
        } else {
            size_t start = pos;
            while (pos < text.size() && (text[pos] == '-' || text[pos] == '.' || (text[pos] >= '0' && text[pos] <= '9')))
                ++pos;
            if (start == pos) return false;
            value = std::string(text.substr(start, pos - start));
        }
        fields.emplace_back(std::move(key), std::move(value));
        skip_spaces(text, pos);
        if (pos >= text.size()) return false;
        if (text[pos] == '}') return true;
        if (text[pos++] != ',') return false;
    }
    return false;
}

}  // namespace

std::optional<Decision> decision_from_json(std::string_view line) {
    std::vector<std::pair<std::string, std::string>> fields;
    if (!read_flat_object(line, fields)) return std::nullopt;
    Decision d;
    bool has_verdict = false;
    try {
        for (auto& [key, value] : fields) {
            if (key == "time") d.time = value;
            else if (key == "id") d.container_id = value;
            else if (key == "pid") d.pid = std::stoi(value);
            else if (key == "comm") d.comm = value;
            else if (key == "syscall") d.syscall = value;
            else if (key == "family") d.family = value;
            else if (key == "address") d.address = value;
            else if (key == "port") d.port = static_cast<uint16_t>(std::stoul(value));
            else if (key == "verdict") d.verdict = value, has_verdict = true;
            else if (key == "rule") d.rule = value;
            else if (key == "annotation") d.annotation = value;
            else if (key == "pod") d.pod_name = value;
            else if (key == "namespace") d.pod_namespace = value;
            else if (key == "protocol") d.protocol = value;
            else if (key == "upstream") d.upstream = value;
            else if (key == "qtype") d.protocol = value;
            else if (key == "answer") d.upstream = value;
            else if (key == "bytes_up") d.bytes_up = std::stoull(value);
            else if (key == "bytes_down") d.bytes_down = std::stoull(value);
            else if (key == "duration_ms") d.duration_ms = std::stod(value);
            else if (key == "error") d.error = value;
        }
    } catch (const std::exception&) {
        return std::nullopt;
    }
    if (!has_verdict) return std::nullopt;
    return d;
}

DecisionLog::DecisionLog(const std::string& path) {
    fd_.reset(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
    if (!fd_) throw_errno("open decision log " + path);
}

DecisionLog::~DecisionLog() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_flusher_.notify_one();
    if (flusher_.joinable()) flusher_.join();
    flush();
}

void DecisionLog::stamp(Decision& decision) const {
    if (decision.pod_name.empty()) decision.pod_name = pod_name_;
    if (decision.pod_namespace.empty()) decision.pod_namespace = pod_namespace_;
}

void DecisionLog::write(Decision decision) {
    if (!fd_) return;
    stamp(decision);
    if (decision.time.empty()) decision.time = utc_timestamp_now();
    std::string line = decision_to_json(decision);
    line.push_back('\n');
    std::unique_lock lock(mutex_);
    write_out(lock, line);
}

void DecisionLog::write_soon(Decision decision) {
    if (!fd_) return;
    stamp(decision);
    auto now = std::chrono::system_clock::now();
    std::unique_lock lock(mutex_);
    bool first = waiting_.empty();
    waiting_.push_back({std::move(decision), now});
    if (first && !flusher_.joinable() && !stopping_) {
        try {
            flusher_ = std::thread([this] { flusher_loop(); });
        } catch (const std::system_error&) {
            write_out(lock, {});  // no thread: write it now
            return;
        }
    }
    // A flood must not grow the buffer without bound.
    if (waiting_.size() >= 256) {
        write_out(lock, {});
        return;
    }
    lock.unlock();
    // Only the first waiting decision wakes the flusher: one wake-up per
    // kFlushDelay in a burst, not one per decision.
    if (first) wake_flusher_.notify_one();
}

void DecisionLog::flush() {
    if (!fd_) return;
    std::unique_lock lock(mutex_);
    write_out(lock, {});
}

void DecisionLog::flusher_loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_flusher_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
        if (stopping_) return;
        // Let the burst gather.
        wake_flusher_.wait_for(lock, kFlushDelay, [this] { return stopping_; });
        write_out(lock, {});
        lock.lock();
    }
}

void DecisionLog::write_out(std::unique_lock<std::mutex>& lock, const std::string& line) {
    std::vector<Waiting> batch;
    batch.swap(waiting_);
    std::lock_guard file(file_mutex_);
    lock.unlock();
    std::string text;
    for (auto& w : batch) {
        if (w.decision.time.empty()) w.decision.time = utc_timestamp(w.at);
        text += decision_to_json(w.decision);
        text.push_back('\n');
    }
    text += line;
    append(text);
}

void DecisionLog::append(const std::string& text) {
    // A failed log write must not turn into a failed connect for the
    // container: the decision stands, the log is best effort (disk full).
    size_t done = 0;
    while (done < text.size()) {
        ssize_t n = retry_eintr([&] { return ::write(fd_.get(), text.data() + done, text.size() - done); });
        if (n <= 0) break;
        done += static_cast<size_t>(n);
    }
    if (trail_) trail_->append(text);
}

std::vector<Decision> read_decisions(std::istream& in, size_t limit, bool denials_only) {
    std::deque<Decision> kept;
    std::string line;
    while (std::getline(in, line)) {
        auto decision = decision_from_json(line);
        if (!decision) continue;
        if (denials_only && decision->verdict == "allow") continue;
        kept.push_back(std::move(*decision));
        if (limit && kept.size() > limit) kept.pop_front();
    }
    return {kept.begin(), kept.end()};
}

std::string format_decision_table(const std::vector<Decision>& decisions) {
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"TIME", "PID", "COMM", "SYSCALL", "DESTINATION", "VERDICT", "RULE", "ALLOW WITH"});
    for (const auto& d : decisions) {
        std::string destination = d.address;
        if (d.family == "inet6" && destination.find(':') != std::string::npos) destination = "[" + destination + "]";
        if (d.port) destination += ":" + std::to_string(d.port);
        std::string rule = d.error.empty() ? d.rule : d.rule + " (" + d.error + ")";
        rows.push_back({d.time, std::to_string(d.pid), d.comm, d.syscall, destination, d.verdict, rule,
                        d.annotation.empty() ? "-" : d.annotation});
    }
    std::vector<size_t> widths(rows[0].size(), 0);
    for (const auto& row : rows)
        for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
    std::string out;
    for (const auto& row : rows) {
        std::string line;
        for (size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
        }
        out += line + "\n";
    }
    return out;
}

}  // namespace tether::hooks
