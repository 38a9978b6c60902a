#include "runtime/sandbox/notify_filter.hpp"

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
#include "runtime/sandbox/seccomp_program.hpp"

// Linux 5.19. Without it a signal to a thread whose connect the supervisor
// is performing aborts the notification, and the restarted call would find a
// socket already connecting.
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

namespace tether::sandbox {

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

}  // namespace

// libseccomp 2.5 cannot ask for WAIT_KILLABLE_RECV, so the BPF is exported
// and loaded with seccomp(2) directly. This also leaves no_new_privs alone
// (libseccomp would set it): the runtime decides that, and loading without it
// needs CAP_SYS_ADMIN, which the init still holds at this point.
sandbox::SeccompProgram compile_network_notify_filter() {
    FilterContext ctx = build_filter();
    return sandbox::export_seccomp_program(ctx.get(), "seccomp notify filter");
}

UniqueFd load_network_notify_program(const sandbox::SeccompProgram& program) {
    int fd = sandbox::load_seccomp_program(program, SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
    if (fd < 0 && errno == EINVAL) fd = sandbox::load_seccomp_program(program, SECCOMP_FILTER_FLAG_NEW_LISTENER);  // < 5.19
    if (fd < 0 && errno == EBUSY)
        throw Error(
            "seccomp notify filter: a filter with a notify listener is already loaded (the kernel allows one "
            "per filter chain; does the config's seccomp profile use SCMP_ACT_NOTIFY?)",
            EBUSY);
    if (fd < 0) throw_errno("seccomp notify filter: seccomp(SECCOMP_SET_MODE_FILTER, NEW_LISTENER)");
    return UniqueFd(fd);
}

UniqueFd load_network_notify_filter() { return load_network_notify_program(compile_network_notify_filter()); }

}  // namespace tether::sandbox
