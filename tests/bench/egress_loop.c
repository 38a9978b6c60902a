/* egress_loop N ADDR PORT NAME [connect]: mean microseconds for one HTTP
 * exchange up to the first byte of the answer: connect, send
 * "GET / HTTP/1.1" with Host NAME, read one byte, close; N rounds.
 *   - without "connect": straight to ADDR:PORT, the way a program that
 *     ignores proxy variables connects. In a sandbox with transparent egress
 *     the kernel sends that connect to tether-netd's transparent listener;
 *     outside one it is the direct path.
 *   - with "connect": through the proxy named by $http_proxy (as tether-netd
 *     sets it: http://127.0.0.1:PORT), with a CONNECT NAME:PORT first.
 * Built statically (the busybox rootfs has no libc). Prints "<us>\n". Sets lo
 * up first when it can (a fresh network namespace may have it down). */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loop_support.h"

static void die(const char* what) {
    perror(what);
    exit(1);
}

static int connect_to(const struct sockaddr_in* to) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    if (connect(fd, (const struct sockaddr*)to, sizeof *to) != 0) die("connect");
    return fd;
}

static void send_all(int fd, const char* text) {
    size_t left = strlen(text);
    while (left > 0) {
        ssize_t n = send(fd, text, left, MSG_NOSIGNAL);
        if (n <= 0) die("send");
        text += n;
        left -= (size_t)n;
    }
}

/* Reads a response head (up to the blank line) and insists on a 200. */
static void read_head_200(int fd) {
    char head[2048];
    size_t used = 0;
    while (used < sizeof head - 1) {
        ssize_t n = recv(fd, head + used, sizeof head - 1 - used, 0);
        if (n <= 0) die("recv (CONNECT answer)");
        used += (size_t)n;
        head[used] = '\0';
        if (strstr(head, "\r\n\r\n")) break;
    }
    if (strncmp(head, "HTTP/1.1 200", 12) != 0 && strncmp(head, "HTTP/1.0 200", 12) != 0) {
        fprintf(stderr, "CONNECT refused: %.80s\n", head);
        exit(1);
    }
}

/* "http://127.0.0.1:PORT[/]" -> the address. */
static struct sockaddr_in proxy_address(void) {
    const char* url = getenv("http_proxy");
    if (!url) url = getenv("HTTP_PROXY");
    if (!url || strncmp(url, "http://", 7) != 0) {
        fprintf(stderr, "no http_proxy of the form http://ADDR:PORT\n");
        exit(1);
    }
    char host[64];
    const char* colon = strrchr(url + 7, ':');
    if (!colon || (size_t)(colon - (url + 7)) >= sizeof host) {
        fprintf(stderr, "http_proxy without a port: %s\n", url);
        exit(1);
    }
    memcpy(host, url + 7, (size_t)(colon - (url + 7)));
    host[colon - (url + 7)] = '\0';
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(colon + 1))};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        fprintf(stderr, "http_proxy host is not an IPv4 address: %s\n", host);
        exit(1);
    }
    return a;
}

int main(int argc, char** argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: egress_loop N ADDR PORT NAME [connect]\n");
        return 2;
    }
    int rounds = atoi(argv[1]);
    const char* name = argv[4];
    int via_connect = argc > 5 && strcmp(argv[5], "connect") == 0;
    struct sockaddr_in target = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[3]))};
    if (inet_pton(AF_INET, argv[2], &target.sin_addr) != 1) {
        fprintf(stderr, "not an IPv4 address: %s\n", argv[2]);
        return 2;
    }
    bring_loopback_up();
    struct sockaddr_in proxy = via_connect ? proxy_address() : target;
    char connect_request[256], request[256];
    snprintf(connect_request, sizeof connect_request, "CONNECT %s:%s HTTP/1.1\r\nHost: %s:%s\r\n\r\n", name,
             argv[3], name, argv[3]);
    snprintf(request, sizeof request, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", name);

    double start = now_us();
    for (int i = 0; i < rounds; i++) {
        int fd = connect_to(via_connect ? &proxy : &target);
        if (via_connect) {
            send_all(fd, connect_request);
            read_head_200(fd);
        }
        send_all(fd, request);
        char first;
        if (recv(fd, &first, 1, 0) != 1) die("recv (first byte)");
        close(fd);
    }
    printf("%.2f\n", (now_us() - start) / rounds);
    return 0;
}
