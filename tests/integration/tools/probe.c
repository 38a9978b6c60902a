/* probe: one network or file attempt from inside a container, for the
 * sandbox bats tests (tests/integration/sandbox_*.bats).
 *
 * Built by the tests with `cc -static -O2 -pthread` into the bundle's rootfs,
 * so it needs nothing from the busybox image. Every mode prints one line:
 * "OK" when the attempt succeeded, otherwise the errno name (ECONNREFUSED,
 * EACCES, ...), and exits 0 on success, 1 on failure, 2 on bad usage. The
 * tests assert on that line: what a program inside the sandbox sees.
 *
 *   probe connect ADDR PORT        TCP connect (IPv4 or IPv6 literal)
 *   probe connect6 ADDR PORT       the same, the address must be IPv6
 *   probe nbconnect ADDR PORT      non-blocking connect: "<first> <final>",
 *                                  e.g. "EINPROGRESS OK" (exit as for final)
 *   probe mptcp ADDR PORT          connect over IPPROTO_MPTCP
 *   probe udp ADDR PORT            sendto one datagram "probe"
 *   probe bind PORT [ADDR]         TCP bind + listen (default 127.0.0.1)
 *   probe bindconnect PORT         bind+listen on 127.0.0.1:PORT, then
 *                                  connect to it (a server of its own)
 *   probe iouring                  raw io_uring_setup(2)
 *   probe raw                      socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)
 *   probe packet                   socket(AF_PACKET, SOCK_RAW, 0)
 *   probe abstract NAME            connect to the abstract unix socket @NAME
 *   probe i386                     getpid via int $0x80 in a child: "OK"
 *                                  if it returned our pid, else the errno
 *                                  name or "SIGNAL<n>"
 *   probe race ADDR OKPORT BADPORT N
 *                                  a thread flips one sockaddr's port between
 *                                  OKPORT and BADPORT while the main thread
 *                                  connects N times through it; prints
 *                                  "connected=<n> failed=<n>"
 *   probe write PATH               create/truncate PATH and write to it
 *   probe read PATH                open PATH and read from it
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif

static const char *errno_name(int err) {
    const char *name = strerrorname_np(err);
    return name ? name : "E?";
}

/* Prints the outcome of an attempt and returns the exit status. */
static int report(int ok, int err) {
    if (ok) {
        puts("OK");
        return 0;
    }
    puts(errno_name(err));
    return 1;
}

static int usage(void) {
    fputs("usage: probe MODE ARGS... (see tests/integration/tools/probe.c)\n", stderr);
    return 2;
}

/* Fills ss from an IPv4 or IPv6 literal; returns its length, 0 if bad. */
static socklen_t make_address(const char *addr, const char *port, struct sockaddr_storage *ss) {
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    int p = atoi(port);
    if (p < 0 || p > 65535) return 0;
    if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)p);
        return sizeof *in4;
    }
    if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)p);
        return sizeof *in6;
    }
    return 0;
}

static int do_connect(const char *addr, const char *port, int protocol, int want_v6) {
    struct sockaddr_storage ss;
    socklen_t len = make_address(addr, port, &ss);
    if (!len || (want_v6 && ss.ss_family != AF_INET6)) return usage();
    int fd = socket(ss.ss_family, SOCK_STREAM, protocol);
    if (fd < 0) return report(0, errno);
    int rc = connect(fd, (struct sockaddr *)&ss, len);
    return report(rc == 0, errno);
}

static int do_nbconnect(const char *addr, const char *port) {
    struct sockaddr_storage ss;
    socklen_t len = make_address(addr, port, &ss);
    if (!len) return usage();
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) return report(0, errno);
    int rc = connect(fd, (struct sockaddr *)&ss, len);
    int first = rc == 0 ? 0 : errno;
    int final = first;
    if (rc != 0 && first == EINPROGRESS) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        if (poll(&pfd, 1, 10000) != 1) {
            final = ETIMEDOUT;
        } else {
            socklen_t l = sizeof final;
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &final, &l) != 0) final = errno;
        }
    }
    printf("%s %s\n", first ? errno_name(first) : "OK", final ? errno_name(final) : "OK");
    return final == 0 ? 0 : 1;
}

static int do_udp(const char *addr, const char *port) {
    struct sockaddr_storage ss;
    socklen_t len = make_address(addr, port, &ss);
    if (!len) return usage();
    int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
    if (fd < 0) return report(0, errno);
    ssize_t n = sendto(fd, "probe", 5, 0, (struct sockaddr *)&ss, len);
    return report(n == 5, errno);
}

static int do_bind(const char *port, const char *addr, int then_connect) {
    struct sockaddr_storage ss;
    socklen_t len = make_address(addr, port, &ss);
    if (!len) return usage();
    int fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0) return report(0, errno);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0) return report(0, errno);
    if (listen(fd, 8) != 0) return report(0, errno);
    if (!then_connect) return report(1, 0);
    int client = socket(ss.ss_family, SOCK_STREAM, 0);
    if (client < 0) return report(0, errno);
    return report(connect(client, (struct sockaddr *)&ss, len) == 0, errno);
}

static int do_iouring(void) {
    /* struct io_uring_params is 120 bytes; zeroed is a valid request. */
    unsigned char params[120];
    memset(params, 0, sizeof params);
    long fd = syscall(__NR_io_uring_setup, 4, params);
    return report(fd >= 0, errno);
}

static int do_socket(int family, int type, int protocol) {
    int fd = socket(family, type, protocol);
    return report(fd >= 0, errno);
}

static int do_abstract(const char *name) {
    struct sockaddr_un un;
    memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    size_t n = strlen(name);
    if (n + 1 > sizeof un.sun_path) return usage();
    memcpy(un.sun_path + 1, name, n); /* sun_path[0] == 0: abstract */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) return report(0, errno);
    int rc = connect(fd, (struct sockaddr *)&un, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n));
    return report(rc == 0, errno);
}

/* getpid through the i386 entry point. In a child: on a kernel without ia32
 * emulation the instruction faults (SIGSEGV), which must not look like a
 * verdict of the sandbox. */
static int do_i386(void) {
    pid_t child = fork();
    if (child < 0) return report(0, errno);
    if (child == 0) {
        long ret;
        __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L /* i386 __NR_getpid */) : "memory");
        if (ret == (long)getpid()) _exit(0);
        if (ret < 0 && ret > -150) _exit(100 + (int)-ret);
        _exit(99);
    }
    int status;
    if (waitpid(child, &status, 0) < 0) return report(0, errno);
    if (WIFSIGNALED(status)) {
        printf("SIGNAL%d\n", WTERMSIG(status));
        return 1;
    }
    int code = WEXITSTATUS(status);
    if (code == 0) return report(1, 0);
    if (code >= 100) return report(0, code - 100);
    puts("UNEXPECTED");
    return 1;
}

struct race {
    struct sockaddr_in addr; /* the port is flipped under the connects */
    uint16_t ports[2];
    atomic_int stop;
};

static void *flip_port(void *arg) {
    struct race *r = arg;
    volatile uint16_t *port = &r->addr.sin_port;
    for (unsigned i = 0; !atomic_load_explicit(&r->stop, memory_order_relaxed); i++) *port = r->ports[i & 1];
    return NULL;
}

static int do_race(const char *addr, const char *ok_port, const char *bad_port, const char *count) {
    static struct race r;
    r.addr.sin_family = AF_INET;
    if (inet_pton(AF_INET, addr, &r.addr.sin_addr) != 1) return usage();
    r.ports[0] = htons((uint16_t)atoi(ok_port));
    r.ports[1] = htons((uint16_t)atoi(bad_port));
    r.addr.sin_port = r.ports[0];
    int n = atoi(count), connected = 0, failed = 0;
    pthread_t flipper;
    if (pthread_create(&flipper, NULL, flip_port, &r) != 0) return report(0, errno);
    for (int i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) {
            failed++;
            continue;
        }
        if (connect(fd, (struct sockaddr *)&r.addr, sizeof r.addr) == 0)
            connected++;
        else
            failed++;
        close(fd);
    }
    atomic_store(&r.stop, 1);
    pthread_join(flipper, NULL);
    printf("connected=%d failed=%d\n", connected, failed);
    return 0;
}

static int do_write(const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return report(0, errno);
    ssize_t n = write(fd, "probe\n", 6);
    int err = errno;
    close(fd);
    return report(n == 6, err);
}

static int do_read(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return report(0, errno);
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf);
    int err = errno;
    close(fd);
    return report(n >= 0, err);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc < 2) return usage();
    const char *mode = argv[1];
    if (!strcmp(mode, "connect") && argc == 4) return do_connect(argv[2], argv[3], 0, 0);
    if (!strcmp(mode, "connect6") && argc == 4) return do_connect(argv[2], argv[3], 0, 1);
    if (!strcmp(mode, "nbconnect") && argc == 4) return do_nbconnect(argv[2], argv[3]);
    if (!strcmp(mode, "mptcp") && argc == 4) return do_connect(argv[2], argv[3], IPPROTO_MPTCP, 0);
    if (!strcmp(mode, "udp") && argc == 4) return do_udp(argv[2], argv[3]);
    if (!strcmp(mode, "bind") && (argc == 3 || argc == 4)) return do_bind(argv[2], argc == 4 ? argv[3] : "127.0.0.1", 0);
    if (!strcmp(mode, "bindconnect") && argc == 3) return do_bind(argv[2], "127.0.0.1", 1);
    if (!strcmp(mode, "iouring") && argc == 2) return do_iouring();
    if (!strcmp(mode, "raw") && argc == 2) return do_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    if (!strcmp(mode, "packet") && argc == 2) return do_socket(AF_PACKET, SOCK_RAW, 0);
    if (!strcmp(mode, "abstract") && argc == 3) return do_abstract(argv[2]);
    if (!strcmp(mode, "i386") && argc == 2) return do_i386();
    if (!strcmp(mode, "race") && argc == 6) return do_race(argv[2], argv[3], argv[4], argv[5]);
    if (!strcmp(mode, "write") && argc == 3) return do_write(argv[2]);
    if (!strcmp(mode, "read") && argc == 3) return do_read(argv[2]);
    return usage();
}
