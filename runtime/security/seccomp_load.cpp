// Exporting and loading a SeccompFilter with seccomp(2).
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "runtime/core/error.hpp"
#include "runtime/security/seccomp_filter.hpp"

namespace tether::security {
namespace {

// libseccomp exports only to an fd: give it a memfd and read the bytes back.
std::string export_to_string(int (*exporter)(const scmp_filter_ctx, int), scmp_filter_ctx ctx,
                             const char* what) {
    UniqueFd fd(memfd_create(what, MFD_CLOEXEC));
    if (!fd) throw_errno(std::string("memfd_create for ") + what);
    int rc = exporter(ctx, fd.get());
    if (rc != 0) throw Error(what, -rc);
    std::string bytes;
    char buffer[8192];
    off_t offset = 0;
    for (;;) {
        ssize_t n = retry_eintr([&] { return pread(fd.get(), buffer, sizeof buffer, offset); });
        if (n < 0) throw_errno(std::string("reading back ") + what);
        if (n == 0) break;
        bytes.append(buffer, static_cast<size_t>(n));
        offset += n;
    }
    return bytes;
}

bool attribute_set(scmp_filter_ctx ctx, scmp_filter_attr attr) {
    uint32_t value = 0;
    return seccomp_attr_get(ctx, attr, &value) == 0 && value != 0;
}

}  // namespace

std::string SeccompFilter::export_pfc() const {
    return export_to_string(seccomp_export_pfc, ctx_, "seccomp_export_pfc");
}

std::string SeccompFilter::export_bpf() const {
    return export_to_string(seccomp_export_bpf, ctx_, "seccomp_export_bpf");
}

UniqueFd load_seccomp_filter(SeccompFilter& filter) {
    if (!filter.valid()) throw Error("load_seccomp_filter: no filter was built");
    std::string program = filter.export_bpf();
    if (program.empty() || program.size() % sizeof(sock_filter) != 0)
        throw Error("seccomp_export_bpf: produced " + std::to_string(program.size()) +
                    " bytes, not a whole BPF program");

    // The flags libseccomp would pass itself, read from its attributes, plus
    // the ones it has no attribute for.
    unsigned int flags = 0;
    if (attribute_set(filter.get(), SCMP_FLTATR_CTL_TSYNC)) flags |= SECCOMP_FILTER_FLAG_TSYNC;
    if (attribute_set(filter.get(), SCMP_FLTATR_CTL_LOG)) flags |= SECCOMP_FILTER_FLAG_LOG;
    if (attribute_set(filter.get(), SCMP_FLTATR_CTL_SSB)) flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
    if (filter.uses_notify) {
        flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
        // The kernel only accepts WAIT_KILLABLE_RECV with a listener
        // (libseccomp 2.6 likewise only passes it then).
        if (filter.wait_killable_recv) flags |= SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
        // TSYNC normally returns a thread id on failure, which would be
        // indistinguishable from a listener fd.
        if (flags & SECCOMP_FILTER_FLAG_TSYNC) flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
    }

    std::vector<sock_filter> instructions(program.size() / sizeof(sock_filter));
    std::memcpy(instructions.data(), program.data(), program.size());
    sock_fprog prog{static_cast<unsigned short>(instructions.size()), instructions.data()};
    if (instructions.size() > BPF_MAXINSNS)
        throw Error("seccomp: the filter has " + std::to_string(instructions.size()) +
                    " BPF instructions, more than the kernel's limit " +
                    std::to_string(BPF_MAXINSNS));

    long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    if (rc < 0) {
        if (errno == EACCES)
            throw Error("seccomp(SECCOMP_SET_MODE_FILTER): needs CAP_SYS_ADMIN or no_new_privs",
                        errno);
        throw_errno("seccomp(SECCOMP_SET_MODE_FILTER, flags " + std::to_string(flags) + ")");
    }
    if (rc > 0 && !filter.uses_notify)
        // TSYNC without a listener: rc is the thread that could not be synced.
        throw Error("seccomp(SECCOMP_SET_MODE_FILTER): thread " + std::to_string(rc) +
                    " could not be synchronised");
    return filter.uses_notify ? UniqueFd(static_cast<int>(rc)) : UniqueFd();
}

}  // namespace tether::security
