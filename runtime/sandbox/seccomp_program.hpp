// A libseccomp filter as the BPF program the kernel takes, and loading such
// a program with seccomp(2) directly. Compiling is the slow part (libseccomp
// builds and optimises the program: 3.3 ms for the sandbox's closures in a
// fresh process), so the init compiles the sandbox's programs while the
// parent runs the prestart hooks, and loads them later (sandbox_setup.cpp).
// Header-only: the closures and runtime/sandbox/notify_filter.cpp (compiled
// into tether) share it without a library between.
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "runtime/core/error.hpp"
#include "runtime/core/unique_fd.hpp"

namespace tether::sandbox {

using SeccompProgram = std::vector<sock_filter>;

// The program libseccomp would load for `ctx` (seccomp_export_bpf). `what`
// names the filter in errors.
inline SeccompProgram export_seccomp_program(scmp_filter_ctx ctx, const std::string& what) {
    UniqueFd memfd(::memfd_create("tether-seccomp-bpf", MFD_CLOEXEC));
    if (!memfd) throw_errno(what + ": memfd_create");
    if (int rc = seccomp_export_bpf(ctx, memfd.get()); rc < 0) throw Error(what + ": seccomp_export_bpf", -rc);
    off_t size = ::lseek(memfd.get(), 0, SEEK_END);
    if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0) throw Error(what + ": bad exported BPF size");
    SeccompProgram program(static_cast<size_t>(size) / sizeof(sock_filter));
    if (::pread(memfd.get(), program.data(), static_cast<size_t>(size), 0) != size)
        throw_errno(what + ": read exported BPF");
    return program;
}

// seccomp(SECCOMP_SET_MODE_FILTER, flags, program): the listener fd with
// SECCOMP_FILTER_FLAG_NEW_LISTENER, else 0; -1 with errno on failure.
inline int load_seccomp_program(const SeccompProgram& program, unsigned long flags) {
    sock_fprog fprog{static_cast<unsigned short>(program.size()), const_cast<sock_filter*>(program.data())};
    return static_cast<int>(::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog));
}

}  // namespace tether::sandbox
