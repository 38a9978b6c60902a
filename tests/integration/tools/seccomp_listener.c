/* seccomp_listener: a minimal seccomp agent for security_seccomp.bats.
 *
 *   seccomp_listener SOCKET STATE_OUT ANSWER
 *
 * Listens on the unix socket SOCKET (linux.seccomp.listenerPath), takes one
 * connection from the runtime, receives the ContainerProcessState JSON with
 * the listener fd (SCM_RIGHTS, in the same message as the runtime-spec
 * says), writes the JSON to STATE_OUT, then answers ONE notification and
 * exits:
 *   ANSWER "errno:N"   the trapped syscall fails with errno N
 *   ANSWER "continue"  the kernel runs the syscall as if not trapped
 * The trapped syscall's number goes to STATE_OUT.nr, so the test can check
 * which syscall arrived. Every step that fails exits non-zero with a
 * message naming it; the test bounds the whole program with `timeout`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static void die(const char *what) {
    fprintf(stderr, "seccomp_listener: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void write_file(const char *path, const char *data, size_t size) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) die(tmp);
    if (fwrite(data, 1, size, f) != size || fclose(f) != 0) die(tmp);
    /* rename: the test never sees a half-written file. */
    if (rename(tmp, path) != 0) die(path);
}

/* True once text holds one whole JSON object: runtimes need not close the
 * connection after sending (runc keeps it open), so EOF cannot mark the end. */
static int json_complete(const char *text, size_t size) {
    int depth = 0, in_string = 0, escaped = 0, started = 0;
    for (size_t i = 0; i < size; ++i) {
        char c = text[i];
        if (in_string) {
            if (escaped) escaped = 0;
            else if (c == '\\') escaped = 1;
            else if (c == '"') in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '{') {
            ++depth;
            started = 1;
        } else if (c == '}') {
            if (--depth == 0 && started) return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s SOCKET STATE_OUT errno:N|continue\n", argv[0]);
        return 2;
    }
    const char *socket_path = argv[1], *state_out = argv[2], *answer = argv[3];
    int answer_errno = 0, answer_continue = strcmp(answer, "continue") == 0;
    if (!answer_continue && sscanf(answer, "errno:%d", &answer_errno) != 1) {
        fprintf(stderr, "seccomp_listener: bad answer \"%s\"\n", answer);
        return 2;
    }

    int server = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (server < 0) die("socket");
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (strlen(socket_path) >= sizeof address.sun_path) {
        fprintf(stderr, "seccomp_listener: socket path too long\n");
        return 2;
    }
    strcpy(address.sun_path, socket_path);
    unlink(socket_path);
    if (bind(server, (struct sockaddr *)&address, sizeof address) != 0) die("bind");
    if (listen(server, 1) != 0) die("listen");
    /* Ready marker: the test starts the container only after it exists. */
    char ready[4096];
    snprintf(ready, sizeof ready, "%s.ready", state_out);
    write_file(ready, "", 0);

    int conn = accept4(server, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0) die("accept");

    /* The state JSON and the fd, until the JSON is whole (or EOF). */
    static char state[1 << 16];
    size_t used = 0;
    int listener = -1;
    for (;;) {
        char control[CMSG_SPACE(sizeof(int))];
        struct iovec iov = {state + used, sizeof state - 1 - used};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                             .msg_controllen = sizeof control};
        ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("recvmsg");
        }
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                memcpy(&listener, CMSG_DATA(c), sizeof(int));
        if (n == 0 || used + (size_t)n >= sizeof state - 1) break;
        used += (size_t)n;
        if (json_complete(state, used)) break;
    }
    close(conn);
    close(server);
    unlink(socket_path);
    if (listener < 0) {
        fprintf(stderr, "seccomp_listener: no fd came with the state\n");
        return 1;
    }
    write_file(state_out, state, used);

    struct seccomp_notif_sizes sizes;
    if (syscall(__NR_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) die("SECCOMP_GET_NOTIF_SIZES");
    struct seccomp_notif *request = calloc(1, sizes.seccomp_notif);
    struct seccomp_notif_resp *response = calloc(1, sizes.seccomp_notif_resp);
    if (!request || !response) die("calloc");
    while (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, request) != 0)
        if (errno != EINTR) die("SECCOMP_IOCTL_NOTIF_RECV");

    char nr[64];
    int len = snprintf(nr, sizeof nr, "%d\n", request->data.nr);
    char nr_path[4096];
    snprintf(nr_path, sizeof nr_path, "%s.nr", state_out);
    write_file(nr_path, nr, (size_t)len);

    response->id = request->id;
    if (answer_continue) {
        response->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    } else {
        response->error = -answer_errno;
    }
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, response) != 0) die("SECCOMP_IOCTL_NOTIF_SEND");
    return 0;
}
