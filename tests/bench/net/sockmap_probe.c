// Probe of the BPF sockmap fast path considered for the loopback bridge
// (issue #6/#11), kept so the figures in docs/benchmarks.md can be redone.
// Not used by tether-netd: see docs/network-daemon.md for why.
//
// It sets up, with raw bpf(2) calls, a SOCKHASH keyed by socket cookie, a HASH
// cookie -> peer cookie, and a 20-instruction BPF_PROG_TYPE_SK_SKB stream
// verdict program that redirects every skb to the peer's egress
// (bpf_sk_redirect_hash, flags 0). Then, on 127.0.0.1:
//   1. throughput of a client -> discard server, direct vs through the
//      sockmap "bridge" (accepted socket + upstream socket in the map), and
//      how much was queued inside the kernel (in neither socket) when the
//      client finished sending;
//   2. backpressure: with an upstream that never reads, how much the client
//      can send in 3 s (a bounded relay stops at a few socket buffers).
// Needs root (CAP_BPF + CAP_NET_ADMIN). Build: cc -O2 sockmap_probe.c -lpthread
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long bpf(int cmd, union bpf_attr *a) { return syscall(SYS_bpf, cmd, a, sizeof *a); }
#define INSN(c, d, s, o, i) ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define MOV64_REG(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV64_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define ADD64_IMM(d, i) INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define STX64(d, s, o) INSN(BPF_STX | BPF_MEM | BPF_DW, d, s, o, 0)
#define LDX64(d, s, o) INSN(BPF_LDX | BPF_MEM | BPF_DW, d, s, o, 0)
#define CALL(f) INSN(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define JEQ_IMM(d, i, o) INSN(BPF_JMP | BPF_JEQ | BPF_K, d, 0, o, i)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define LD_MAP(d, fd) INSN(BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_MAP_FD, 0, fd), INSN(0, 0, 0, 0, 0)

static int sockhash, peers;

static int setup_bpf(void) {
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.map_type = BPF_MAP_TYPE_SOCKHASH, a.key_size = 8, a.value_size = 8, a.max_entries = 4096;
    if ((sockhash = bpf(BPF_MAP_CREATE, &a)) < 0) return perror("BPF_MAP_CREATE sockhash"), -1;
    memset(&a, 0, sizeof a);
    a.map_type = BPF_MAP_TYPE_HASH, a.key_size = 8, a.value_size = 8, a.max_entries = 4096;
    if ((peers = bpf(BPF_MAP_CREATE, &a)) < 0) return perror("BPF_MAP_CREATE hash"), -1;
    struct bpf_insn prog[] = {
        MOV64_REG(6, 1),                    // r6 = skb
        CALL(BPF_FUNC_get_socket_cookie),   // r0 = cookie of the receiving socket
        STX64(10, 0, -8),
        LD_MAP(1, peers),
        MOV64_REG(2, 10), ADD64_IMM(2, -8),
        CALL(BPF_FUNC_map_lookup_elem),     // r0 = &peer cookie
        JEQ_IMM(0, 0, 10),                  // no peer: drop
        LDX64(1, 0, 0),
        STX64(10, 1, -16),
        MOV64_REG(1, 6),
        LD_MAP(2, sockhash),
        MOV64_REG(3, 10), ADD64_IMM(3, -16),
        MOV64_IMM(4, 0),                    // egress of the peer
        CALL(BPF_FUNC_sk_redirect_hash),
        EXIT(),
        MOV64_IMM(0, SK_DROP),
        EXIT(),
    };
    static char log[65536];
    memset(&a, 0, sizeof a);
    a.prog_type = BPF_PROG_TYPE_SK_SKB, a.insns = (uintptr_t)prog, a.insn_cnt = sizeof prog / sizeof prog[0];
    a.license = (uintptr_t) "GPL", a.log_buf = (uintptr_t)log, a.log_size = sizeof log, a.log_level = 1;
    int prog_fd = bpf(BPF_PROG_LOAD, &a);
    if (prog_fd < 0) return perror("BPF_PROG_LOAD"), fprintf(stderr, "%s\n", log), -1;
    memset(&a, 0, sizeof a);
    a.target_fd = sockhash, a.attach_bpf_fd = prog_fd, a.attach_type = BPF_SK_SKB_STREAM_VERDICT;
    if (bpf(BPF_PROG_ATTACH, &a) < 0) return perror("BPF_PROG_ATTACH stream verdict"), -1;
    return 0;
}

static uint64_t cookie(int fd) {
    uint64_t c = 0;
    socklen_t l = sizeof c;
    getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c, &l);
    return c;
}
static int map_put(int map, uint64_t k, uint64_t v) {
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.map_fd = map, a.key = (uintptr_t)&k, a.value = (uintptr_t)&v, a.flags = BPF_ANY;
    return bpf(BPF_MAP_UPDATE_ELEM, &a);
}
static void splice_in_kernel(int accepted, int upstream) {
    uint64_t ca = cookie(accepted), cu = cookie(upstream);
    if (map_put(peers, ca, cu) || map_put(peers, cu, ca) || map_put(sockhash, ca, accepted) ||
        map_put(sockhash, cu, upstream))
        perror("BPF_MAP_UPDATE_ELEM"), exit(1);
}

static int listen_on(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in s = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof s;
    bind(fd, (void *)&s, sizeof s), listen(fd, 64), getsockname(fd, (void *)&s, &l);
    *port = ntohs(s.sin_port);
    return fd;
}
static int dial(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (void *)&s, sizeof s)) perror("connect"), exit(1);
    return fd;
}
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void *discard(void *arg) {
    int fd = (int)(intptr_t)arg;
    char *buf = malloc(1 << 20);
    long total = 0;
    ssize_t n;
    while ((n = recv(fd, buf, 1 << 20, 0)) > 0) total += n;
    char msg[32];
    send(fd, msg, snprintf(msg, sizeof msg, "%ld\n", total), 0);
    close(fd), free(buf);
    return 0;
}
static void *never_reads(void *arg) {
    sleep(60);
    close((int)(intptr_t)arg);
    return 0;
}
struct server { int fd; void *(*serve)(void *); };
static void *accept_loop(void *arg) {
    struct server *s = arg;
    for (;;) {
        pthread_t t;
        pthread_create(&t, 0, s->serve, (void *)(intptr_t)accept(s->fd, 0, 0));
        pthread_detach(t);
    }
    return 0;
}
static int start_server(void *(*serve)(void *)) {
    static struct server servers[4];
    static int n;
    int port;
    servers[n] = (struct server){listen_on(&port), serve};
    pthread_t t;
    pthread_create(&t, 0, accept_loop, &servers[n++]);
    return port;
}

static char chunk[1 << 20];
static void send_mib(int fd, long mib) {
    for (long i = 0; i < mib; ++i)
        for (size_t off = 0; off < sizeof chunk;) {
            ssize_t n = send(fd, chunk + off, sizeof chunk - off, 0);
            if (n <= 0) perror("send"), exit(1);
            off += n;
        }
}

int main(int argc, char **argv) {
    long mib = argc > 1 ? atol(argv[1]) : 1024;
    int repeats = argc > 2 ? atoi(argv[2]) : 3;
    if (setup_bpf()) return 1;
    int discard_port = start_server(discard), stall_port = start_server(never_reads);
    int bridge_port, bridge = listen_on(&bridge_port);
    for (int round = 0; round < repeats; ++round) {
        int c = dial(discard_port);
        double t0 = now();
        send_mib(c, mib);
        shutdown(c, SHUT_WR);
        char reply[32] = {0};
        recv(c, reply, sizeof reply - 1, 0);
        double direct = mib / (now() - t0);
        close(c);

        c = dial(bridge_port);
        int a = accept(bridge, 0, 0), u = dial(discard_port);
        splice_in_kernel(a, u);
        t0 = now();
        send_mib(c, mib);
        struct tcp_info ti;
        socklen_t tl = sizeof ti;
        getsockopt(u, IPPROTO_TCP, TCP_INFO, &ti, &tl);
        int outq = 0, inq = 0;
        ioctl(u, SIOCOUTQ, &outq), ioctl(a, SIOCINQ, &inq);
        long queued = (long)((mib << 20) - ti.tcpi_bytes_acked) - outq - inq;
        // No FIN handling in this probe: done when the upstream has all bytes acked.
        for (;; usleep(100)) {
            tl = sizeof ti;
            getsockopt(u, IPPROTO_TCP, TCP_INFO, &ti, &tl);
            if (ti.tcpi_bytes_acked >= (uint64_t)mib << 20) break;
        }
        printf("%ld MiB: direct %.0f MiB/s  sockmap %.0f MiB/s; when the client finished, %ld MiB were queued in the kernel outside both sockets\n",
               mib, direct, mib / (now() - t0), queued >> 20);
        close(c), close(a), close(u);
    }

    int c = dial(bridge_port);
    int a = accept(bridge, 0, 0), u = dial(stall_port);
    splice_in_kernel(a, u);
    fcntl(c, F_SETFL, O_NONBLOCK);
    long sent = 0;
    for (double t0 = now(); now() - t0 < 3;) {
        ssize_t n = send(c, chunk, sizeof chunk, 0);
        if (n > 0) sent += n; else usleep(1000);
    }
    printf("upstream never reads: the client sent %ld MiB in 3 s through the sockmap\n", sent >> 20);
    return 0;
}
