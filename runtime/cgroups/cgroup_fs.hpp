// Small file helpers for cgroupfs: every failure names the file and the value.
//
// Writes open with O_APPEND and never O_CREAT: cgroupfs ignores the offset and
// a missing file means the kernel lacks the knob (the caller decides whether
// that is an error); on the plain directory trees used by unit tests, every
// write stays visible in order.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/core/unique_fd.hpp"

namespace tether::cgroups {

std::string join_path(const std::string& dir, const std::string& name);
bool path_exists(const std::string& path);

// Writes value to dir/name; throws tether::Error naming both on failure.
void write_file(const std::string& dir, const std::string& name, const std::string& value);
// Same, but returns the errno (0 on success) instead of throwing.
int try_write_file(const std::string& dir, const std::string& name, const std::string& value);
// For many values to one file (v1 device rules): dir/name opened for
// appending (an empty fd and errno on failure), then one write(2) per value,
// returning the errno (0 on success).
UniqueFd open_control_file(const std::string& dir, const std::string& name);
int try_write_value(int fd, const std::string& value);

// Reads dir/name whole; throws tether::Error when it cannot be read.
std::string read_file(const std::string& dir, const std::string& name);
std::optional<std::string> read_file_if_exists(const std::string& dir, const std::string& name);

// A single number; "max" reads as UINT64_MAX. Throws on junk.
uint64_t read_uint(const std::string& dir, const std::string& name);
// "key value" lines (memory.stat, cpu.stat, memory.events).
std::map<std::string, uint64_t> read_key_values(const std::string& dir, const std::string& name);

std::string trim(const std::string& text);

// mkdir -p; returns 0 or the errno of the first mkdir that failed.
int make_directories(const std::string& path);

// Removes a cgroup directory and its sub-cgroups, leaf first. A missing
// directory is fine. EBUSY (processes still exiting after a kill) is retried
// briefly; a directory that stays busy throws tether::Error.
void remove_cgroup_tree(const std::string& path);

// The pids of dir/<file> and of every sub-cgroup below dir.
std::vector<pid_t> read_pids_recursive(const std::string& dir, const std::string& file = "cgroup.procs");

}  // namespace tether::cgroups
