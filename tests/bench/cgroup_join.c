// cgroup_join DIR SAMPLES GAP_MS: what a new process pays to get into the
// cgroup2 cgroup DIR, the two ways a runtime can do it, alternated sample by
// sample: "move" forks, then writes the child's pid to DIR/cgroup.procs
// (runc's way, and tether's before CLONE_INTO_CGROUP); "born" clones the child
// straight into DIR (clone3 CLONE_INTO_CGROUP, crun's way and tether's now).
// GAP_MS of quiet before each sample: a move takes the kernel's global
// cgroup_threadgroup_rwsem for writing, and only the first writer after a
// quiet spell waits for an RCU grace period, which is what a runtime started
// now and then (podman run, a CI job) meets. Prints the median of each, in
// ms, from the parent's view (fork/clone to the child being in DIR).
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int by_value(const void* a, const void* b) {
    double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}

static pid_t spawn(int cgroup_fd) {
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.exit_signal = SIGCHLD;
    if (cgroup_fd >= 0) {
        args.flags = CLONE_INTO_CGROUP;
        args.cgroup = (uint64_t)cgroup_fd;
    }
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) {
        pause();
        _exit(0);
    }
    return (pid_t)pid;
}

int main(int argc, char** argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: cgroup_join DIR SAMPLES GAP_MS\n");
        return 2;
    }
    int samples = atoi(argv[2]), gap_ms = atoi(argv[3]);
    char procs[4096];
    snprintf(procs, sizeof procs, "%s/cgroup.procs", argv[1]);
    int dir = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) {
        perror(argv[1]);
        return 1;
    }
    double* move = calloc(samples, sizeof *move);
    double* born = calloc(samples, sizeof *born);
    for (int i = 0; i < samples; ++i) {
        for (int way = 0; way < 2; ++way) {
            usleep(gap_ms * 1000);
            double start = now_ms();
            pid_t pid;
            if (way == 0) {
                pid = spawn(-1);
                char text[16];
                int n = snprintf(text, sizeof text, "%d", pid);
                int fd = open(procs, O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, text, n) != n) {
                    perror(procs);
                    return 1;
                }
                close(fd);
            } else {
                pid = spawn(dir);
                if (pid < 0) {
                    perror("clone3 CLONE_INTO_CGROUP");
                    return 1;
                }
            }
            (way == 0 ? move : born)[i] = now_ms() - start;
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
    }
    qsort(move, samples, sizeof *move, by_value);
    qsort(born, samples, sizeof *born, by_value);
    printf("move %.3f (%.3f-%.3f) born %.3f (%.3f-%.3f)\n", move[samples / 2], move[0], move[samples - 1],
           born[samples / 2], born[0], born[samples - 1]);
    return 0;
}
