// Writes to procfs (linux.sysctl, process.oomScoreAdj) through a procfs the
// runtime opened itself, never through the container's /proc.
//
// CVE-2025-52881 (runc): a write meant for /proc/sys/... or /proc/self/...
// followed a path in the container's mount namespace, where the rootfs had
// put a bind mount over /proc/sys/net/ipv4 or /proc/1 (a symlinked mount
// destination resolves to it): the runtime wrote into a file of the
// attacker's choice. Here every write starts from a handle on a procfs that
// no container mount can cover (a new instance from fsopen("proc"), not
// attached anywhere; or, where the kernel refuses one, the /proc the init
// saw before the container's mounts existed), never crosses a mount
// (RESOLVE_NO_XDEV), and is checked twice before a byte is written: fstatfs
// says PROC_SUPER_MAGIC, fstat says a regular file of that very procfs.
#pragma once

#include <sys/types.h>

#include <string>

#include "runtime/core/unique_fd.hpp"

namespace tether::security {

class ProcFs {
public:
    // fsopen("proc") + fsmount in the caller's pid namespace; falls back to
    // the caller's current /proc (checked to be procfs). Open it before the
    // container's mounts exist.
    static ProcFs open();
    // For tests: an already opened procfs root (taken over).
    explicit ProcFs(UniqueFd root);

    // Opens `relative` ("sys/net/ipv4/ip_forward", "self/oom_score_adj")
    // for writing, verified as above. Throws tether::Error naming `what`.
    UniqueFd open_for_write(const std::string& relative, const std::string& what) const;
    // open_for_write, then writes `value` in one write(2).
    void write(const std::string& relative, const std::string& value, const std::string& what) const;

    bool private_instance() const { return private_; }

private:
    UniqueFd root_;
    dev_t dev_ = 0;
    bool private_ = false;
};

}  // namespace tether::security
