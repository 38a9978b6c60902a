#include "hooks/supervisor/notify_filter.hpp"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "runtime/core/error.hpp"

// Linux 5.19. Without it a signal to a thread whose connect the supervisor
// is performing aborts the notification, and the restarted call would find a
// socket already connecting.
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

namespace tether::hooks {

const std::vector<std::string>& notified_syscall_names() {
    static const std::vector<std::string> names = {"connect", "bind", "sendto", "sendmsg", "sendmmsg"};
    return names;
}

namespace {

using FilterContext = std::unique_ptr<void, void (*)(scmp_filter_ctx)>;

void check(int rc, const std::string& what) {
    // libseccomp reports errors as negative errno values.
    if (rc < 0) throw Error("seccomp notify filter: " + what, -rc);
}

FilterContext build_filter() {
    FilterContext ctx(seccomp_init(SCMP_ACT_ALLOW), seccomp_release);
    if (!ctx) throw Error("seccomp notify filter: seccomp_init failed");
    // Only the native ABI is in the filter; libseccomp applies the bad-arch
    // action to i386 and x32 calls, whose socket calls we do not decode.
    check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS),
          "seccomp_attr_set(ACT_BADARCH)");
    for (const auto& name : notified_syscall_names()) {
        int nr = seccomp_syscall_resolve_name(name.c_str());
        if (nr == __NR_SCMP_ERROR) throw Error("seccomp notify filter: unknown syscall " + name);
        if (name == "sendto") {
            // send() is sendto(fd, buf, len, flags, NULL, 0): the hot path of
            // every TCP connection. Its destination is a register, so the
            // filter can tell safely: only a destination pointer, or
            // MSG_FASTOPEN (TCP connects to the address then), needs a
            // decision. A NULL destination cannot be swapped in later.
            check(seccomp_rule_add(ctx.get(), SCMP_ACT_NOTIFY, nr, 1, SCMP_A4(SCMP_CMP_NE, 0)),
                  "seccomp_rule_add(sendto, dest)");
            check(seccomp_rule_add(ctx.get(), SCMP_ACT_NOTIFY, nr, 1,
                                   SCMP_A3(SCMP_CMP_MASKED_EQ, MSG_FASTOPEN, MSG_FASTOPEN)),
                  "seccomp_rule_add(sendto, MSG_FASTOPEN)");
            continue;
        }
        check(seccomp_rule_add(ctx.get(), SCMP_ACT_NOTIFY, nr, 0), "seccomp_rule_add(" + name + ")");
    }
    return ctx;
}

// libseccomp 2.5 cannot ask for WAIT_KILLABLE_RECV, so the BPF is exported
// and loaded with seccomp(2) directly. This also leaves no_new_privs alone
// (libseccomp would set it): the runtime decides that, and loading without it
// needs CAP_SYS_ADMIN, which the init still holds at this point.
std::vector<sock_filter> export_bpf(scmp_filter_ctx ctx) {
    UniqueFd memfd(::memfd_create("tether-notify-bpf", MFD_CLOEXEC));
    if (!memfd) throw_errno("seccomp notify filter: memfd_create");
    check(seccomp_export_bpf(ctx, memfd.get()), "seccomp_export_bpf");
    off_t size = ::lseek(memfd.get(), 0, SEEK_END);
    if (size <= 0 || size % sizeof(sock_filter) != 0) throw Error("seccomp notify filter: bad exported BPF size");
    std::vector<sock_filter> program(static_cast<size_t>(size) / sizeof(sock_filter));
    if (::pread(memfd.get(), program.data(), static_cast<size_t>(size), 0) != size)
        throw_errno("seccomp notify filter: read exported BPF");
    return program;
}

int load_with_listener(std::vector<sock_filter>& program, unsigned long flags) {
    sock_fprog fprog{static_cast<unsigned short>(program.size()), program.data()};
    return static_cast<int>(::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog));
}

}  // namespace

UniqueFd load_network_notify_filter() {
    FilterContext ctx = build_filter();
    std::vector<sock_filter> program = export_bpf(ctx.get());

    int fd = load_with_listener(program, SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
    if (fd < 0 && errno == EINVAL) fd = load_with_listener(program, SECCOMP_FILTER_FLAG_NEW_LISTENER);  // < 5.19
    if (fd < 0 && errno == EBUSY)
        throw Error(
            "seccomp notify filter: a filter with a notify listener is already loaded (the kernel allows one "
            "per filter chain; does the config's seccomp profile use SCMP_ACT_NOTIFY?)",
            EBUSY);
    if (fd < 0) throw_errno("seccomp notify filter: seccomp(SECCOMP_SET_MODE_FILTER, NEW_LISTENER)");
    return UniqueFd(fd);
}

}  // namespace tether::hooks
