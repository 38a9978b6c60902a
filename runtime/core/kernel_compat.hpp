// Kernel constants and structs newer than the installed (Linux 6.1) uapi
// headers. Each one names the kernel release that added it and is guarded, so
// that newer headers win and nothing is defined twice. Add to this file; do
// not remove other people's lines.
#pragma once

#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <linux/types.h>
#include <sys/ioctl.h>

// ---------------------------------------------------------------------------
// Landlock (include/uapi/linux/landlock.h). The 6.1 headers stop at ABI 2.
// ---------------------------------------------------------------------------

// ABI 3 (Linux 6.2): truncate(2), ftruncate(2) and O_TRUNC.
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

// ABI 4 (Linux 6.7): TCP bind/connect rules keyed by port.
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#define LANDLOCK_RULE_NET_PORT 2
// Same layout as the kernel's struct landlock_net_port_attr (packed, 16 bytes).
struct landlock_net_port_attr {
    __u64 allowed_access;
    __u64 port;  // host endianness
} __attribute__((packed));
#endif

// ABI 5 (Linux 6.10): ioctl(2) on character and block devices.
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

// ABI 6 (Linux 6.12): IPC scoping, the `scoped` member of the ruleset attr.
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

// ABI 7 (Linux 6.15): landlock_restrict_self(2) audit-logging flags.
#ifndef LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF
#define LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF (1U << 0)
#define LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON (1U << 1)
#define LANDLOCK_RESTRICT_SELF_LOG_SUBDOMAINS_OFF (1U << 2)
#endif

namespace tether::kernel {

// struct landlock_ruleset_attr as of ABI 6 (Linux 6.12). The 6.1 header's
// struct has only handled_access_fs, so the full layout gets its own name. The
// kernel accepts a larger struct from older userspace and a larger struct on an
// older kernel as long as the members it does not know are zero.
struct landlock_ruleset_attr_v6 {
    __u64 handled_access_fs;
    __u64 handled_access_net;  // ABI 4 (Linux 6.7)
    __u64 scoped;              // ABI 6 (Linux 6.12)
};

}  // namespace tether::kernel

// ---------------------------------------------------------------------------
// seccomp (include/uapi/linux/seccomp.h)
// ---------------------------------------------------------------------------

// Linux 5.9: install an fd into the notifying process.
#ifndef SECCOMP_IOCTL_NOTIF_ADDFD
#define SECCOMP_ADDFD_FLAG_SETFD (1UL << 0)
struct seccomp_notif_addfd {
    __u64 id;
    __u32 flags;
    __u32 srcfd;
    __u32 newfd;
    __u32 newfd_flags;
};
#define SECCOMP_IOCTL_NOTIF_ADDFD _IOW('!', 3, struct seccomp_notif_addfd)
#endif

// Linux 5.14: ADDFD that also answers the notification with the new fd.
#ifndef SECCOMP_ADDFD_FLAG_SEND
#define SECCOMP_ADDFD_FLAG_SEND (1UL << 1)
#endif

// Linux 5.19: wait for the supervisor killably once the notification was received.
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

// Linux 6.6: wake the supervisor on the same CPU (lower latency for sync notifications).
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS _IOW('!', 4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
