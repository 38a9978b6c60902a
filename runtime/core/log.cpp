#include "runtime/core/log.hpp"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "runtime/core/json_escape.hpp"

namespace tether::log {
namespace {

Options g_options;
std::chrono::steady_clock::time_point g_configured_at = std::chrono::steady_clock::now();
std::vector<std::string> g_warnings;

std::string format_line(const char* level, const std::string& message) {
    if (g_options.format == Format::json) {
        char stamp[32];
        time_t now = time(nullptr);
        struct tm tm_utc;
        gmtime_r(&now, &tm_utc);
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm_utc);
        return std::string("{\"level\":\"") + level + "\",\"msg\":" + json_quote(message) +
               ",\"time\":\"" + stamp + "\"}\n";
    }
    return std::string(level) + ": " + message + "\n";
}

void append_to_log(const std::string& line) {
    int fd = ::open(g_options.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        (void)!::write(STDERR_FILENO, line.data(), line.size());
        return;
    }
    (void)!::write(fd, line.data(), line.size());
    ::close(fd);
}

}  // namespace

void configure(const Options& options) {
    g_options = options;
    if (!g_options.path.empty()) {
        // runc creates the log even when nothing goes wrong; podman expects it.
        int fd = ::open(g_options.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) ::close(fd);
    }
}

void warning(const std::string& message) { g_warnings.push_back(message); }

void debug(const std::string& message) {
    if (!g_options.debug) return;
    std::string line = format_line("debug", message);
    if (g_options.path.empty())
        (void)!::write(STDERR_FILENO, line.data(), line.size());
    else
        append_to_log(line);
}

void debug_step(const char* name) {
    if (!g_options.debug) return;
    const auto since = std::chrono::steady_clock::now() - g_configured_at;
    debug(std::string("step ") + name + " at +" +
          std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(since).count()) + " us");
}

void flush_warnings() {
    if (g_options.path.empty()) {
        g_warnings.clear();  // stdio may be the container's: stay silent
        return;
    }
    for (const auto& message : g_warnings) append_to_log(format_line("warning", message));
    g_warnings.clear();
}

void error(const std::string& message) {
    std::string line = format_line("error", message);
    if (g_options.path.empty()) {
        std::string text = "tether: " + message + "\n";
        (void)!::write(STDERR_FILENO, text.data(), text.size());
    } else {
        append_to_log(line);
        // Also tell a human on the terminal; callers that decode the log read
        // the file, not stderr.
        std::string text = "tether: " + message + "\n";
        (void)!::write(STDERR_FILENO, text.data(), text.size());
    }
}


std::string rfc3339_now() {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    // The calendar by arithmetic (C++20 chrono), not gmtime_r/strftime:
    // glibc loads the time zone on their first call (/etc/localtime, seven
    // system calls on every create) though UTC needs none.
    using namespace std::chrono;
    const sys_seconds now{seconds{ts.tv_sec}};
    const sys_days day = floor<days>(now);
    const year_month_day date{day};
    const hh_mm_ss time{now - day};
    char full[64];
    snprintf(full, sizeof full, "%04d-%02u-%02uT%02ld:%02ld:%02ld.%09ldZ", static_cast<int>(date.year()),
             static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
             static_cast<long>(time.hours().count()), static_cast<long>(time.minutes().count()),
             static_cast<long>(time.seconds().count()), static_cast<long>(ts.tv_nsec));
    return full;
}

}  // namespace tether::log
