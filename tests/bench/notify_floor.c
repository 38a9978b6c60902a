/* notify_floor N: the floor under any seccomp-notify supervisor on this
 * machine. A child traps getppid with SECCOMP_RET_USER_NOTIF; the parent is
 * the smallest possible supervisor: receive, answer CONTINUE, nothing else
 * (SYNC_WAKE_UP set, as tether-netd does, where the kernel has it). Prints
 * the microseconds one trapped call costs over the same call untrapped:
 * two context switches, the receive and the reply. What a real supervisor
 * adds to a connect beyond this is its own work (docs/benchmarks.md).
 * The child ends the run with getppid(0xdead). */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP 1
#endif
#define END_MARK 0xdead

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static double mean_getppid_us(int rounds) {
    double start = now_us();
    for (int i = 0; i < rounds; ++i) syscall(SYS_getppid, 0);
    return (now_us() - start) / rounds;
}

int main(int argc, char** argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 20000;
    int to_parent[2], result[2];
    if (pipe(to_parent) != 0 || pipe(result) != 0) return perror("pipe"), 1;
    pid_t child = fork();
    if (child < 0) return perror("fork"), 1;
    if (child == 0) {
        double plain = mean_getppid_us(rounds);
        struct sock_filter filter[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog program = {sizeof filter / sizeof filter[0], filter};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(2);
        int listener = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &program);
        if (listener < 0) _exit(3);
        if (write(to_parent[1], &listener, sizeof listener) != sizeof listener) _exit(4);
        usleep(100 * 1000);  // the parent takes the listener (pidfd_getfd)
        double trapped = mean_getppid_us(rounds);
        syscall(SYS_getppid, END_MARK);
        double extra = trapped - plain;
        if (write(result[1], &extra, sizeof extra) != sizeof extra) _exit(5);
        _exit(0);
    }
    int number;
    if (read(to_parent[0], &number, sizeof number) != sizeof number) return fprintf(stderr, "notify_floor: no listener\n"), 1;
    int pidfd = syscall(SYS_pidfd_open, child, 0);
    int listener = pidfd < 0 ? -1 : syscall(SYS_pidfd_getfd, pidfd, number, 0);
    if (listener < 0) return perror("notify_floor: pidfd_getfd"), 1;
    ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);  /* 6.6+; else ignored */
    for (;;) {
        struct seccomp_notif n;
        memset(&n, 0, sizeof n);
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &n) != 0) break;
        struct seccomp_notif_resp r;
        memset(&r, 0, sizeof r);
        r.id = n.id;
        r.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &r);
        if (n.data.args[0] == END_MARK) break;
    }
    double extra;
    int status;
    if (read(result[0], &extra, sizeof extra) != sizeof extra) return fprintf(stderr, "notify_floor: child failed\n"), 1;
    waitpid(child, &status, 0);
    printf("%.2f\n", extra);
    return 0;
}
