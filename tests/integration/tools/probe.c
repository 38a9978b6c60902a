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
 *   probe udpsendmsg ADDR PORT     sendmsg one datagram "probe", msg_name set
 *   probe udpsendmmsg ADDR PORT    sendmmsg two datagrams "probe", each with
 *                                  msg_name set: "OK" only if both were sent,
 *                                  "PARTIAL<n>" if only n (0 or 1) were
 *   probe dnsflood ADDR N          N DNS queries (A, r<i>.flood.test) on one
 *                                  UDP socket to ADDR:53 as fast as replies
 *                                  come (1 s timeout each): "answered=<n>
 *                                  refused=<n> lost=<n> foreign=<n>" (REFUSED
 *                                  counted apart; foreign: replies whose
 *                                  source is not ADDR:53, which a stub
 *                                  resolver would drop)
 *   probe udpconnect ADDR PORT     UDP connect, then send "probe" with no
 *                                  address (the errno of the step that failed)
 *   probe tfo ADDR PORT            TCP Fast Open: sendto "probe" with
 *                                  MSG_FASTOPEN on an unconnected socket (no
 *                                  cookie: a plain SYN, then the data)
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
 *   probe fdswap ADDR UNIXDIR PORT SECONDS
 *                                  one thread dup2()s an AF_UNIX datagram
 *                                  socket and an IPv4 UDP socket in turn onto
 *                                  one fd number, another swaps one address
 *                                  buffer between sockaddr_un UNIXDIR/sock
 *                                  (bound by the probe itself, and drained)
 *                                  and sockaddr_in ADDR:PORT, while the main
 *                                  thread sendto()s "probe" through both for
 *                                  SECONDS seconds; prints
 *                                  "sent=<n> errors=<n>", exits 0
 *   probe bpf                      tamper with cgroup BPF programs, on the
 *                                  first of /sys/fs/cgroup/unified and
 *                                  /sys/fs/cgroup that opens: prints
 *                                  "getnextid=<r> query=<r> detach=<r>
 *                                  load=<r>", each r "OK" or the errno name,
 *                                  for BPF_PROG_GET_NEXT_ID, BPF_PROG_QUERY
 *                                  and BPF_PROG_DETACH of INET4_CONNECT, and
 *                                  BPF_PROG_LOAD of "r0 = 1; exit" as a
 *                                  CGROUP_SOCK_ADDR program; exits 0 only if
 *                                  all four were OK
 *   probe write PATH               create/truncate PATH and write to it
 *   probe read PATH                open PATH and read from it
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif
#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif
#if !defined(__NR_bpf) && defined(__x86_64__)
#define __NR_bpf 321
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

/* A probe's destination and a socket of its family (protocol 0). */
struct target {
    struct sockaddr_storage ss;
    socklen_t len;
    int fd;
};

/* Fills t; returns -1 when it could, else the exit status already due (a
 * bad address: usage; no socket: its errno, reported). */
static int open_target(const char *addr, const char *port, int type, struct target *t) {
    t->len = make_address(addr, port, &t->ss);
    if (!t->len) return usage();
    t->fd = socket(t->ss.ss_family, type, 0);
    if (t->fd < 0) return report(0, errno);
    return -1;
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
    struct target t;
    int status = open_target(addr, port, SOCK_STREAM | SOCK_NONBLOCK, &t);
    if (status >= 0) return status;
    int rc = connect(t.fd, (struct sockaddr *)&t.ss, t.len);
    int first = rc == 0 ? 0 : errno;
    int final = first;
    if (rc != 0 && first == EINPROGRESS) {
        struct pollfd pfd = {.fd = t.fd, .events = POLLOUT};
        if (poll(&pfd, 1, 10000) != 1) {
            final = ETIMEDOUT;
        } else {
            socklen_t l = sizeof final;
            if (getsockopt(t.fd, SOL_SOCKET, SO_ERROR, &final, &l) != 0) final = errno;
        }
    }
    printf("%s %s\n", first ? errno_name(first) : "OK", final ? errno_name(final) : "OK");
    return final == 0 ? 0 : 1;
}

static int do_udp(const char *addr, const char *port) {
    struct target t;
    int status = open_target(addr, port, SOCK_DGRAM, &t);
    if (status >= 0) return status;
    ssize_t n = sendto(t.fd, "probe", 5, 0, (struct sockaddr *)&t.ss, t.len);
    return report(n == 5, errno);
}

static int do_udpsendmsg(const char *addr, const char *port) {
    struct target t;
    int status = open_target(addr, port, SOCK_DGRAM, &t);
    if (status >= 0) return status;
    struct iovec iov = {.iov_base = "probe", .iov_len = 5};
    struct msghdr msg = {.msg_name = &t.ss, .msg_namelen = t.len, .msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n = sendmsg(t.fd, &msg, 0);
    return report(n == 5, errno);
}

static int do_udpsendmmsg(const char *addr, const char *port) {
    struct target t;
    int status = open_target(addr, port, SOCK_DGRAM, &t);
    if (status >= 0) return status;
    struct iovec iov = {.iov_base = "probe", .iov_len = 5};
    struct mmsghdr msgs[2];
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < 2; i++) {
        msgs[i].msg_hdr.msg_name = &t.ss;
        msgs[i].msg_hdr.msg_namelen = t.len;
        msgs[i].msg_hdr.msg_iov = &iov;
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int rc = sendmmsg(t.fd, msgs, 2, 0);
    if (rc >= 0 && rc < 2) {
        /* a partial send leaves errno unset: say how many went */
        printf("PARTIAL%d\n", rc);
        return 1;
    }
    return report(rc == 2, errno);
}

static int do_dnsflood(const char *addr, const char *count) {
    struct sockaddr_storage ss;
    socklen_t len = make_address(addr, "53", &ss);
    if (!len) return usage();
    int n = atoi(count), answered = 0, refused = 0, lost = 0, foreign = 0;
    int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
    if (fd < 0) return report(0, errno);
    struct timeval timeout = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    for (int i = 0; i < n; ++i) {
        unsigned char q[64], r[512];
        char label[16];
        int label_len = snprintf(label, sizeof label, "r%d", i);
        size_t at = 0;
        const unsigned char head[12] = {(unsigned char)(i >> 8), (unsigned char)i, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
        memcpy(q, head, 12);
        at = 12;
        q[at++] = (unsigned char)label_len;
        memcpy(q + at, label, (size_t)label_len);
        at += (size_t)label_len;
        memcpy(q + at, "\005flood\004test\000\000\001\000\001", 16);
        at += 16;
        if (sendto(fd, q, at, 0, (struct sockaddr *)&ss, len) != (ssize_t)at) return report(0, errno);
        struct sockaddr_storage from;
        socklen_t from_len = sizeof from;
        memset(&from, 0, sizeof from);
        ssize_t got = recvfrom(fd, r, sizeof r, 0, (struct sockaddr *)&from, &from_len);
        if (got >= 0 && (from_len != len || memcmp(&from, &ss, len) != 0)) ++foreign;
        if (got < 12) ++lost;
        else if ((r[3] & 0xf) == 5) ++refused;
        else ++answered;
    }
    printf("answered=%d refused=%d lost=%d foreign=%d\n", answered, refused, lost, foreign);
    return 0;
}

static int do_udpconnect(const char *addr, const char *port) {
    struct target t;
    int status = open_target(addr, port, SOCK_DGRAM, &t);
    if (status >= 0) return status;
    if (connect(t.fd, (struct sockaddr *)&t.ss, t.len) != 0) return report(0, errno);
    ssize_t n = send(t.fd, "probe", 5, 0);
    return report(n == 5, errno);
}

static int do_tfo(const char *addr, const char *port) {
    struct target t;
    int status = open_target(addr, port, SOCK_STREAM, &t);
    if (status >= 0) return status;
    /* Blocking: without a cookie this is a normal handshake, then the data. */
    ssize_t n = sendto(t.fd, "probe", 5, MSG_FASTOPEN, (struct sockaddr *)&t.ss, t.len);
    return report(n >= 0, errno);
}

static int do_bind(const char *port, const char *addr, int then_connect) {
    struct target t;
    int status = open_target(addr, port, SOCK_STREAM, &t);
    if (status >= 0) return status;
    int one = 1;
    setsockopt(t.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(t.fd, (struct sockaddr *)&t.ss, t.len) != 0) return report(0, errno);
    if (listen(t.fd, 8) != 0) return report(0, errno);
    if (!then_connect) return report(1, 0);
    int client = socket(t.ss.ss_family, SOCK_STREAM, 0);
    if (client < 0) return report(0, errno);
    return report(connect(client, (struct sockaddr *)&t.ss, t.len) == 0, errno);
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

/* The address buffer of fdswap: either image, at the same place. */
union swap_addr {
    struct sockaddr_un un;
    struct sockaddr_in in;
};

/* The swapped buffer and the stop flag on cache lines of their own. */
struct fdswap {
    _Alignas(64) union swap_addr addr; /* swapped under the sends */
    _Alignas(64) atomic_int stop;
    _Alignas(64) union swap_addr images[2]; /* the unix one, the inet one */
    int fds[2];                             /* unix and udp sockets, dup2()ed onto fd */
    int fd;                                 /* the fd number the sends go through */
    int sink;                               /* bound at UNIXDIR/sock, drained */
};

static void *swap_fd(void *arg) {
    struct fdswap *s = arg;
    for (unsigned i = 0; !atomic_load_explicit(&s->stop, memory_order_relaxed); i++) dup2(s->fds[i & 1], s->fd);
    return NULL;
}

static void *swap_addr(void *arg) {
    struct fdswap *s = arg;
    for (unsigned i = 0; !atomic_load_explicit(&s->stop, memory_order_relaxed); i++) {
        memcpy(&s->addr, &s->images[i & 1], sizeof s->addr);
        atomic_signal_fence(memory_order_seq_cst); /* keep every copy */
    }
    return NULL;
}

/* Keeps the unix sink's queue from filling up, so unix sends do not fail
 * with EAGAIN. */
static void *drain(void *arg) {
    struct fdswap *s = arg;
    char buf[64];
    while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
        struct pollfd pfd = {.fd = s->sink, .events = POLLIN};
        if (poll(&pfd, 1, 50) == 1)
            while (recv(s->sink, buf, sizeof buf, MSG_DONTWAIT) >= 0) {
            }
    }
    return NULL;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int do_fdswap(const char *addr, const char *unixdir, const char *port, const char *seconds) {
    static struct fdswap s;
    struct sockaddr_un *un = &s.images[0].un;
    struct sockaddr_in *in = &s.images[1].in;
    un->sun_family = AF_UNIX;
    if (snprintf(un->sun_path, sizeof un->sun_path, "%s/sock", unixdir) >= (int)sizeof un->sun_path) return usage();
    in->sin_family = AF_INET;
    if (inet_pton(AF_INET, addr, &in->sin_addr) != 1) return usage();
    int p = atoi(port);
    if (p < 0 || p > 65535) return usage();
    in->sin_port = htons((uint16_t)p);
    double duration = atof(seconds);

    s.sink = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s.sink < 0) return report(0, errno);
    unlink(un->sun_path);
    if (bind(s.sink, (struct sockaddr *)un, sizeof *un) != 0) return report(0, errno);
    /* Non-blocking, so that a full queue cannot stall the loop. */
    s.fds[0] = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    s.fds[1] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s.fds[0] < 0 || s.fds[1] < 0) return report(0, errno);
    s.fd = dup(s.fds[1]);
    if (s.fd < 0) return report(0, errno);
    s.addr = s.images[0];

    pthread_t threads[3];
    void *(*fns[3])(void *) = {swap_fd, swap_addr, drain};
    for (int i = 0; i < 3; i++)
        if ((errno = pthread_create(&threads[i], NULL, fns[i], &s)) != 0) return report(0, errno);
    /* sockaddr_un is the larger: a longer length fails every unix send. */
    socklen_t len = sizeof(union swap_addr);
    long sent = 0, errors = 0;
    double end = now() + duration;
    do {
        for (int i = 0; i < 256; i++) {
            if (sendto(s.fd, "probe", 5, 0, (struct sockaddr *)&s.addr, len) >= 0)
                sent++;
            else
                errors++;
        }
    } while (now() < end);
    atomic_store(&s.stop, 1);
    for (int i = 0; i < 3; i++) pthread_join(threads[i], NULL);
    unlink(un->sun_path);
    printf("sent=%ld errors=%ld\n", sent, errors);
    return 0;
}

static long sys_bpf(int cmd, union bpf_attr *attr) {
    return syscall(__NR_bpf, cmd, attr, sizeof *attr);
}

static const char *bpf_outcome(long rc, int err) {
    return rc >= 0 ? "OK" : errno_name(err);
}

static int do_bpf(void) {
    union bpf_attr attr;
    const char *results[4];
    int ok = 0;

    memset(&attr, 0, sizeof attr);
    attr.start_id = 0;
    long rc = sys_bpf(BPF_PROG_GET_NEXT_ID, &attr);
    results[0] = bpf_outcome(rc, errno);
    ok += rc >= 0;

    int dir = open("/sys/fs/cgroup/unified", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) dir = open("/sys/fs/cgroup", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int dir_err = errno;

    if (dir < 0) {
        results[1] = results[2] = errno_name(dir_err);
    } else {
        memset(&attr, 0, sizeof attr);
        attr.query.target_fd = (__u32)dir;
        attr.query.attach_type = BPF_CGROUP_INET4_CONNECT;
        rc = sys_bpf(BPF_PROG_QUERY, &attr);
        results[1] = bpf_outcome(rc, errno);
        ok += rc >= 0;

        memset(&attr, 0, sizeof attr);
        attr.target_fd = (__u32)dir;
        attr.attach_type = BPF_CGROUP_INET4_CONNECT;
        rc = sys_bpf(BPF_PROG_DETACH, &attr);
        results[2] = bpf_outcome(rc, errno);
        ok += rc >= 0;
        close(dir);
    }

    struct bpf_insn insns[2];
    memset(insns, 0, sizeof insns);
    insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K; /* r0 = 1 */
    insns[0].dst_reg = BPF_REG_0;
    insns[0].imm = 1;
    insns[1].code = BPF_JMP | BPF_EXIT; /* exit */
    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_CGROUP_SOCK_ADDR;
    attr.expected_attach_type = BPF_CGROUP_INET4_CONNECT;
    attr.insns = (__u64)(uintptr_t)insns;
    attr.insn_cnt = 2;
    attr.license = (__u64)(uintptr_t) "GPL";
    rc = sys_bpf(BPF_PROG_LOAD, &attr);
    results[3] = bpf_outcome(rc, errno);
    ok += rc >= 0;
    if (rc >= 0) close((int)rc);

    printf("getnextid=%s query=%s detach=%s load=%s\n", results[0], results[1], results[2], results[3]);
    return ok == 4 ? 0 : 1;
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
    if (!strcmp(mode, "udpsendmsg") && argc == 4) return do_udpsendmsg(argv[2], argv[3]);
    if (!strcmp(mode, "udpsendmmsg") && argc == 4) return do_udpsendmmsg(argv[2], argv[3]);
    if (!strcmp(mode, "dnsflood") && argc == 4) return do_dnsflood(argv[2], argv[3]);
    if (!strcmp(mode, "udpconnect") && argc == 4) return do_udpconnect(argv[2], argv[3]);
    if (!strcmp(mode, "tfo") && argc == 4) return do_tfo(argv[2], argv[3]);
    if (!strcmp(mode, "bind") && (argc == 3 || argc == 4)) return do_bind(argv[2], argc == 4 ? argv[3] : "127.0.0.1", 0);
    if (!strcmp(mode, "bindconnect") && argc == 3) return do_bind(argv[2], "127.0.0.1", 1);
    if (!strcmp(mode, "iouring") && argc == 2) return do_iouring();
    if (!strcmp(mode, "raw") && argc == 2) return do_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    if (!strcmp(mode, "packet") && argc == 2) return do_socket(AF_PACKET, SOCK_RAW, 0);
    if (!strcmp(mode, "abstract") && argc == 3) return do_abstract(argv[2]);
    if (!strcmp(mode, "i386") && argc == 2) return do_i386();
    if (!strcmp(mode, "race") && argc == 6) return do_race(argv[2], argv[3], argv[4], argv[5]);
    if (!strcmp(mode, "fdswap") && argc == 6) return do_fdswap(argv[2], argv[3], argv[4], argv[5]);
    if (!strcmp(mode, "bpf") && argc == 2) return do_bpf();
    if (!strcmp(mode, "write") && argc == 3) return do_write(argv[2]);
    if (!strcmp(mode, "read") && argc == 3) return do_read(argv[2]);
    return usage();
}
