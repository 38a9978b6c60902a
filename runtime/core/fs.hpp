// Small file helpers with error messages that name the path.
#pragma once

#include <cstddef>
#include <string>

namespace tether::fs {

// Reads a whole file; refuses files larger than max_bytes with an error
// naming the path (a 100 MB config.json is hostile input, not a config).
std::string read_file(const std::string& path, size_t max_bytes = 16 * 1024 * 1024);
// Reads a file relative to a directory fd.
std::string read_file_at(int dirfd, const std::string& name, size_t max_bytes = 1024 * 1024);
// Writes via a temporary file and rename(2), so readers see old or new, never half.
void write_file_atomic_at(int dirfd, const std::string& name, const std::string& content, int mode = 0600);
// Creates name (it must not exist: O_EXCL, no symlink followed) and writes
// content. Not atomic: for a file nobody may read before the writer has
// published something else that points to it.
void write_new_file_at(int dirfd, const std::string& name, const std::string& content, int mode = 0600);
// Writes content to an existing file (e.g. /proc, cgroup files).
void write_file(const std::string& path, const std::string& content);
// Removes a directory tree; missing is fine. Does not cross mount points.
void remove_tree(const std::string& path);
bool exists(const std::string& path);
// Makes a path absolute against the current directory, lexically cleaned.
std::string absolute_path(const std::string& path);

}  // namespace tether::fs
