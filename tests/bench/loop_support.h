/* loop_support.h: what the static in-container bench loops (connect_loop.c,
 * egress_loop.c) share: a monotonic clock in microseconds, and lo set up in
 * a fresh network namespace (not every runtime brings it up; needs
 * CAP_NET_ADMIN in the bundle, and does nothing without it). */
#ifndef TETHER_BENCH_LOOP_SUPPORT_H
#define TETHER_BENCH_LOOP_SUPPORT_H

#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void bring_loopback_up(void) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) return;
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags |= IFF_UP;
        ioctl(fd, SIOCSIFFLAGS, &ifr);
    }
    close(fd);
}

#endif
