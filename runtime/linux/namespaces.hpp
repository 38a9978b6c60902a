// linux.namespaces: which to create (clone flags), which to join (setns on an
// fd opened by path in the runtime's own view of the filesystem), and the
// uid/gid maps the parent writes for a new user namespace.
#pragma once

#include <sched.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "runtime/core/unique_fd.hpp"
#include "spec/config.hpp"

namespace tether::os {

int clone_flag(spec::NamespaceType type);

// setns with these only changes where the caller's CHILDREN go: the caller
// itself stays where it is (pid, time).
inline constexpr int kChildrenOnlyNamespaces = CLONE_NEWPID | CLONE_NEWTIME;

struct JoinedNamespace {
    spec::NamespaceType type;
    std::string path;
    UniqueFd fd;
};

struct NamespacePlan {
    unsigned long new_flags = 0;          // CLONE_NEW* for namespaces created fresh
    std::vector<JoinedNamespace> joins;   // opened before clone, in setns order (user first)
    bool new_user = false;
    bool has(spec::NamespaceType type) const;  // the container has its own (new or joined)
    std::vector<spec::NamespaceType> present;
};

// Opens the joined namespaces (errors name the path) and computes the clone flags.
NamespacePlan plan_namespaces(const std::vector<spec::Namespace>& namespaces);

// The pid and time namespaces the parent's children were born in before
// join_namespaces_for_children: restore() (or the destructor) puts them back.
// Everything the parent forks after the init — prestart and poststart hooks,
// tether-netd among them — must run in the runtime's namespaces (the
// runtime-spec's "runtime namespace"): born in a pod's joined pid namespace,
// the hook cannot see the init's host pid (pidfd_open: ESRCH).
class ChildNamespaces {
public:
    ChildNamespaces() = default;
    ChildNamespaces(ChildNamespaces&&) = default;
    ChildNamespaces& operator=(ChildNamespaces&&) = default;
    ~ChildNamespaces();
    void restore();

private:
    friend ChildNamespaces join_namespaces_for_children(NamespacePlan& plan);
    std::vector<std::pair<int, UniqueFd>> saved_;  // clone flag, the previous *_for_children
};

// In the parent, before clone: joins the namespaces that only affect children
// (pid, time). Done here because setns(CLONE_NEWPID) never moves the caller.
ChildNamespaces join_namespaces_for_children(NamespacePlan& plan);
// In the init: setns into every other joined namespace (user first).
void join_namespaces(NamespacePlan& plan);

// Writes /proc/<pid>/{uid_map,gid_map} (and setgroups=deny when not root).
void write_id_maps(pid_t pid, const std::vector<spec::IdMapping>& uid_mappings,
                   const std::vector<spec::IdMapping>& gid_mappings, bool deny_setgroups);

// Sets `lo` up in the current network namespace, as runc and crun do for a
// new one: programs expect 127.0.0.1 to work.
void bring_loopback_up();

// The CLONE_NEW* flags of the namespaces of process `pid` that are not ours:
// what exec must setns into (setns into the user namespace we are already
// in fails with EINVAL). A namespace we cannot read counts as ours.
int namespaces_differing_from_ours(pid_t pid);

}  // namespace tether::os
