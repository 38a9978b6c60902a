// linux.seccomp -> a libseccomp filter, and loading it.
//
// Translation follows runc (libcontainer/seccomp/seccomp_linux.go): actions
// and errnoRet, architectures, flags, conditions (several conditions on
// distinct arguments are ANDed in one rule; when two conditions share an
// argument index each becomes its own rule, i.e. they are ORed), rules whose
// action equals the default are dropped, and syscall names libseccomp cannot
// resolve (__NR_SCMP_ERROR: a syscall newer than libseccomp or of another
// architecture) are skipped with a warning.
//
// Loading is done with seccomp(2) on the BPF libseccomp generates, as runc
// does, so that every filter flag of the running kernel can be passed (libseccomp
// 2.5 has no attribute for SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) and
// no_new_privs is never set behind the config's back.
#pragma once

#include <seccomp.h>

#include <cstdint>
#include <optional>
#include <string>

#include "runtime/core/unique_fd.hpp"
#include "runtime/security/warnings.hpp"
#include "spec/config.hpp"

namespace tether::security {

// Owns a scmp_filter_ctx (seccomp_release on destruction) plus the load flags
// libseccomp cannot hold as attributes.
class SeccompFilter {
public:
    SeccompFilter() = default;
    explicit SeccompFilter(scmp_filter_ctx ctx) : ctx_(ctx) {}
    SeccompFilter(SeccompFilter&& other) noexcept;
    SeccompFilter& operator=(SeccompFilter&& other) noexcept;
    SeccompFilter(const SeccompFilter&) = delete;
    SeccompFilter& operator=(const SeccompFilter&) = delete;
    ~SeccompFilter();

    scmp_filter_ctx get() const { return ctx_; }
    bool valid() const { return ctx_ != nullptr; }

    // The filter in libseccomp's human-readable form (seccomp_export_pfc).
    std::string export_pfc() const;
    // The BPF program libseccomp generates (seccomp_export_bpf), raw bytes.
    std::string export_bpf() const;

    bool uses_notify = false;         // some rule is SCMP_ACT_NOTIFY
    bool wait_killable_recv = false;  // SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV asked for

private:
    scmp_filter_ctx ctx_ = nullptr;
};

// True when the profile uses SCMP_ACT_NOTIFY anywhere (a listener fd will be
// returned by load_seccomp_filter and must be handed to listenerPath).
bool uses_notify(const spec::Seccomp& seccomp);

// "SCMP_ACT_ERRNO" + errnoRet -> the libseccomp action value. Throws
// tether::Error naming `field` for unknown actions or misplaced errnoRet.
uint32_t seccomp_action_from_name(const std::string& name, std::optional<uint32_t> errno_ret,
                                  const std::string& field);

// Builds the filter; throws tether::Error naming the field (linux.seccomp...)
// on anything libseccomp or the spec refuses. Does not load it.
SeccompFilter build_seccomp_filter(const spec::Seccomp& seccomp, Warnings& warnings);

// Installs the filter on the calling thread (all threads with
// SECCOMP_FILTER_FLAG_TSYNC). Needs CAP_SYS_ADMIN or no_new_privs already
// set. Returns the notify listener fd when the profile uses SCMP_ACT_NOTIFY,
// else an invalid UniqueFd.
UniqueFd load_seccomp_filter(SeccompFilter& filter);

}  // namespace tether::security
