/* connect_loop N: mean microseconds for one loopback TCP connect + accept +
 * close, over N rounds, against a listener it makes on 127.0.0.1:0 in its own
 * network namespace.
 * connect_loop N udp: mean microseconds for one sendto() of a 64-byte UDP
 * datagram to 127.0.0.1 (a socket of its own, drained every 64 sends so
 * that nothing is dropped for a full buffer): the per-datagram cost of a
 * decision on every send. Built statically (no libc in the busybox rootfs) and run
 * inside a container with and without the sandbox's supervisor: the
 * difference is what supervising connect() costs. Prints "<us>\n".
 * A fresh network namespace may have lo down (not every runtime brings it
 * up): it sets lo up first when it can (CAP_NET_ADMIN in the bundle). */
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <string.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loop_support.h"

static int udp_loop(int rounds) {
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    int receiver = socket(AF_INET, SOCK_DGRAM, 0);
    int sender = socket(AF_INET, SOCK_DGRAM, 0);
    if (receiver < 0 || sender < 0 || bind(receiver, (struct sockaddr*)&addr, len) != 0 ||
        getsockname(receiver, (struct sockaddr*)&addr, &len) != 0) {
        perror("connect_loop: udp socket on 127.0.0.1");
        return 1;
    }
    char payload[64] = {0}, sink[64];
    double start = now_us();
    for (int i = 0; i < rounds; ++i) {
        if (sendto(sender, payload, sizeof payload, 0, (struct sockaddr*)&addr, sizeof addr) != sizeof payload) {
            perror("connect_loop: sendto 127.0.0.1");
            return 1;
        }
        if ((i & 63) == 63)
            while (recv(receiver, sink, sizeof sink, MSG_DONTWAIT) > 0) {
            }
    }
    printf("%.3f\n", (now_us() - start) / rounds);
    return 0;
}

int main(int argc, char** argv) {
    bring_loopback_up();
    int rounds = argc > 1 ? atoi(argv[1]) : 10000;
    if (argc > 2 && strcmp(argv[2], "udp") == 0) return udp_loop(rounds);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0 || bind(listener, (struct sockaddr*)&addr, len) != 0 || listen(listener, 128) != 0 ||
        getsockname(listener, (struct sockaddr*)&addr, &len) != 0) {
        perror("connect_loop: listener on 127.0.0.1");
        return 1;
    }
    double start = now_us();
    for (int i = 0; i < rounds; ++i) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr*)&addr, sizeof addr) != 0) {
            perror("connect_loop: connect 127.0.0.1");
            return 1;
        }
        int peer = accept(listener, NULL, NULL);
        if (peer < 0) {
            perror("connect_loop: accept");
            return 1;
        }
        close(peer);
        close(fd);
    }
    printf("%.2f\n", (now_us() - start) / rounds);
    return 0;
}
