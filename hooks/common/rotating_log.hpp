// A sandbox's audit trail outside its state dir: appended to a file under
// the administrator's log directory (/var/log/tether/<id>.jsonl by default),
// which `delete` leaves in place, rotated by size.
//
// The file's path comes partly from a workload (run.tether.log, checked to lie
// in a log directory by spec/), and root writes it: it is opened beneath the
// directory with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so a symlink
// planted in the directory (towards /etc/shadow, say) is refused, never
// followed. Created 0600.
//
// Rotation: when a write would take the file past max_bytes, <name>.(k-1) is
// renamed to <name>.k down to <name> -> <name>.1 (the oldest beyond `keep` is
// dropped), and a new <name> is opened; lines are never split across files.
#pragma once

#include <cstdint>
#include <string>

#include "runtime/core/unique_fd.hpp"

namespace tether::hooks {

class RotatingLog {
public:
    // `directory`: absolute, created (0700, with its parents) when missing;
    // `relative`: the file beneath it. Throws tether::Error naming the path.
    RotatingLog(const std::string& directory, const std::string& relative, std::uint64_t max_bytes, int keep);

    // Appends whole lines (best effort: a full disk loses lines, never a
    // connect). Not thread-safe: DecisionLog serialises its writers.
    void append(const std::string& text);

    const std::string& path() const { return path_; }

private:
    void open_file();
    void rotate();

    std::string path_;  // for messages
    std::string name_;  // the file's name in dir_
    UniqueFd dir_;      // the file's own directory, opened beneath `directory`
    UniqueFd file_;
    std::uint64_t size_ = 0;
    std::uint64_t max_bytes_;
    int keep_;
};

}  // namespace tether::hooks
