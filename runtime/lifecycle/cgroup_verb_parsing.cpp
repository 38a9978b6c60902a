// The pure parts of the cgroup verbs: runc's value syntaxes (memory sizes,
// durations, update flags) and the ps output filter. No syscalls here, so
// tests/unit/runtime covers them as data.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "runtime/core/error.hpp"
#include "runtime/lifecycle/cgroup_verbs.hpp"

namespace tether {
namespace {

std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

// Whole-string decimal number, or nullopt (trailing junk, sign, empty).
std::optional<double> leading_decimal(const std::string& text, size_t& position) {
    const size_t start = position;
    while (position < text.size() && std::isdigit(static_cast<unsigned char>(text[position]))) ++position;
    if (position < text.size() && text[position] == '.') {
        ++position;
        while (position < text.size() && std::isdigit(static_cast<unsigned char>(text[position]))) ++position;
    }
    const std::string number = text.substr(start, position - start);
    if (number.empty() || number == ".") return std::nullopt;
    return std::strtod(number.c_str(), nullptr);
}

template <typename T>
T parse_integer(const std::string& flag, const std::string& text) {
    if (text.empty()) throw Error("update: --" + flag + ": empty value");
    errno = 0;
    char* end = nullptr;
    T value{};
    if constexpr (std::is_signed_v<T>) {
        const long long parsed = std::strtoll(text.c_str(), &end, 10);
        value = static_cast<T>(parsed);
        if (parsed < std::numeric_limits<T>::min() || parsed > std::numeric_limits<T>::max()) errno = ERANGE;
    } else {
        if (text[0] == '-') throw Error("update: --" + flag + ": invalid value \"" + text + "\" (must not be negative)");
        const unsigned long long parsed = std::strtoull(text.c_str(), &end, 10);
        value = static_cast<T>(parsed);
        if (parsed > std::numeric_limits<T>::max()) errno = ERANGE;
    }
    if (*end != '\0' || errno == ERANGE) throw Error("update: --" + flag + ": invalid value \"" + text + "\"");
    return value;
}

int64_t memory_flag(const std::string& flag, const std::string& text) {
    try {
        return parse_memory_size(text);
    } catch (const Error& error) {
        throw Error("update: --" + flag + ": " + error.what());
    }
}

}  // namespace

int64_t parse_memory_size(const std::string& text) {
    if (text == "-1") return -1;
    size_t position = 0;
    const auto number = leading_decimal(text, position);
    if (!number) throw Error("invalid size \"" + text + "\"");
    // go-units allows one space between the number and the unit.
    if (position < text.size() && text[position] == ' ') ++position;
    std::string unit = lower(text.substr(position));
    // "k", "kb", "kib", "b", "" (bytes): the i and b are decoration.
    double multiplier = 1;
    if (!unit.empty() && std::string("kmgtp").find(unit[0]) != std::string::npos) {
        multiplier = std::pow(1024.0, static_cast<double>(std::string("kmgtp").find(unit[0]) + 1));
        unit.erase(0, 1);
        if (!unit.empty() && unit[0] == 'i') unit.erase(0, 1);
    }
    if (unit != "" && unit != "b") throw Error("invalid size \"" + text + "\" (use a number with k, m, g, t or p)");
    const double bytes = *number * multiplier;
    if (bytes >= 9.2e18) throw Error("invalid size \"" + text + "\" (too large)");
    return static_cast<int64_t>(bytes);
}

std::chrono::nanoseconds parse_duration(const std::string& text) {
    static const std::pair<const char*, double> units[] = {
        {"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"μs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9},
    };
    if (text == "0") return std::chrono::nanoseconds(0);
    if (text.empty()) throw Error("invalid duration \"\"");
    double total = 0;
    size_t position = 0;
    while (position < text.size()) {
        const auto number = leading_decimal(text, position);
        if (!number) throw Error("invalid duration \"" + text + "\"");
        size_t unit_end = position;
        while (unit_end < text.size() && !std::isdigit(static_cast<unsigned char>(text[unit_end])) &&
               text[unit_end] != '.')
            ++unit_end;
        const std::string unit = text.substr(position, unit_end - position);
        auto it = std::find_if(std::begin(units), std::end(units), [&](const auto& u) { return unit == u.first; });
        if (it == std::end(units))
            throw Error("invalid duration \"" + text + "\" (" + (unit.empty() ? "missing unit" : "unknown unit \"" + unit + "\"") +
                        "; use ns, us, ms, s, m or h)");
        total += *number * it->second;
        position = unit_end;
    }
    return std::chrono::nanoseconds(static_cast<int64_t>(total));
}

spec::Resources resources_from_flags(const UpdateFlags& flags) {
    spec::Resources resources;
    spec::MemoryResources memory;
    bool has_memory = false;
    auto set_memory = [&](const std::optional<std::string>& value, const char* flag, std::optional<int64_t>& field) {
        if (!value) return;
        field = memory_flag(flag, *value);
        has_memory = true;
    };
    set_memory(flags.memory, "memory", memory.limit);
    set_memory(flags.memory_reservation, "memory-reservation", memory.reservation);
    set_memory(flags.memory_swap, "memory-swap", memory.swap);
    set_memory(flags.kernel_memory, "kernel-memory", memory.kernel);
    set_memory(flags.kernel_memory_tcp, "kernel-memory-tcp", memory.kernel_tcp);
    if (has_memory) resources.memory = memory;

    spec::CpuResources cpu;
    bool has_cpu = false;
    if (flags.cpu_share) cpu.shares = parse_integer<uint64_t>("cpu-share", *flags.cpu_share), has_cpu = true;
    if (flags.cpu_period) cpu.period = parse_integer<uint64_t>("cpu-period", *flags.cpu_period), has_cpu = true;
    if (flags.cpu_quota) cpu.quota = parse_integer<int64_t>("cpu-quota", *flags.cpu_quota), has_cpu = true;
    if (flags.cpu_rt_period)
        cpu.realtime_period = parse_integer<uint64_t>("cpu-rt-period", *flags.cpu_rt_period), has_cpu = true;
    if (flags.cpu_rt_runtime)
        cpu.realtime_runtime = parse_integer<int64_t>("cpu-rt-runtime", *flags.cpu_rt_runtime), has_cpu = true;
    if (flags.cpuset_cpus) cpu.cpus = *flags.cpuset_cpus, has_cpu = true;
    if (flags.cpuset_mems) cpu.mems = *flags.cpuset_mems, has_cpu = true;
    if (has_cpu) resources.cpu = cpu;

    if (flags.pids_limit) resources.pids = spec::PidsResources{parse_integer<int64_t>("pids-limit", *flags.pids_limit)};
    if (flags.blkio_weight) {
        spec::BlockIoResources block_io;
        block_io.weight = parse_integer<uint16_t>("blkio-weight", *flags.blkio_weight);
        resources.block_io = block_io;
    }
    return resources;
}

std::string pids_to_json(const std::vector<pid_t>& pids) {
    std::string json = "[";
    for (size_t i = 0; i < pids.size(); ++i) {
        if (i) json += ",";
        json += std::to_string(pids[i]);
    }
    return json + "]";
}

std::string filter_ps_table(std::string_view ps_output, const std::vector<pid_t>& pids) {
    std::istringstream lines{std::string(ps_output)};
    std::string header;
    std::getline(lines, header);
    std::istringstream header_fields(header);
    std::string field;
    int pid_column = -1;
    for (int column = 0; header_fields >> field; ++column) {
        if (field == "PID") {
            pid_column = column;
            break;
        }
    }
    if (pid_column < 0) throw Error("ps: couldn't find PID field in ps output (header: \"" + header + "\")");
    std::string result = header + "\n";
    for (std::string line; std::getline(lines, line);) {
        std::istringstream fields(line);
        std::string value;
        int column = 0;
        while (column <= pid_column && fields >> value) ++column;
        if (column <= pid_column) continue;  // a short line has no PID column
        char* end = nullptr;
        const long pid = std::strtol(value.c_str(), &end, 10);
        if (value.empty() || *end) continue;
        if (std::find(pids.begin(), pids.end(), static_cast<pid_t>(pid)) != pids.end()) result += line + "\n";
    }
    return result;
}

}  // namespace tether
