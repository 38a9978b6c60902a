// The state directory: <root>/<id>/ holds state.json (spec::StoredState),
// config.json as it was at create (created_config.hpp), exec.fifo while the
// container is created-but-not-started, and the lock.
//
// The root defaults to /run/tether and never depends on PATH, HOME or
// XDG_RUNTIME_DIR: podman calls the runtime from conmon, from podman itself
// and from a cleanup process with no PATH, and all must agree.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "runtime/core/unique_fd.hpp"
#include "spec/state.hpp"

namespace tether {

constexpr const char* default_state_root = "/run/tether";

// Throws unless id is a safe directory name (no "/", no "..", no NUL, not
// empty, at most 1024 bytes, printable).
void validate_container_id(const std::string& id);

// An open, flock(2)ed container directory. Verbs on one container are
// serialised by the lock; different containers never contend.
class ContainerDir {
public:
    ContainerDir(std::string root, std::string id, UniqueFd dir) : root_(std::move(root)), id_(std::move(id)), dir_(std::move(dir)) {}
    const std::string& id() const { return id_; }
    std::string path() const { return root_ + "/" + id_; }
    int fd() const { return dir_.get(); }

    spec::StoredState load() const;
    void save(const spec::StoredState& state) const;
    // The first state.json of a directory create just made: written in place
    // (O_EXCL), no temporary file and rename. Only before anything exists
    // that a later verb must find through it: a create killed half-way
    // through leaves an unparsable state.json, and delete --force then
    // removes the directory alone (operations.cpp), which is all there is.
    void save_first(const spec::StoredState& state) const;
    bool has_file(const char* name) const;
    // Removes the whole directory (end of delete, or a failed create).
    void remove();

private:
    std::string root_;
    std::string id_;
    UniqueFd dir_;
};

class StateStore {
public:
    explicit StateStore(std::string root);
    const std::string& root() const { return root_; }

    // Creates <root>/<id> exclusively and locks it; "already exists" if taken.
    ContainerDir create(const std::string& id) const;
    // Opens and locks an existing container; "container <id> does not exist" otherwise.
    ContainerDir open(const std::string& id) const;
    std::optional<ContainerDir> try_open(const std::string& id) const;
    std::vector<std::string> list_ids() const;

private:
    std::string root_;
};

// Status as the runtime-spec defines it, read from the live system: the init's
// pid must still be the same process (start time) and not a zombie.
enum class LiveStatus { created, running, paused, stopped };
const char* status_name(LiveStatus status);

// Start time (clock ticks since boot, /proc/<pid>/stat field 22), 0 if gone.
uint64_t process_start_time(pid_t pid);
bool process_is_alive(pid_t pid, uint64_t start_time);

LiveStatus live_status(const ContainerDir& dir, const spec::StoredState& state);

}  // namespace tether
