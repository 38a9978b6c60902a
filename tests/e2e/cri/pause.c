/* pause — the pod sandbox's process for the CRI end-to-end test (cri.bats).
 *
 * The sandbox container only holds the pod's namespaces; its process waits
 * for a signal and exits. As pid 1 of its pid namespace it gets no default
 * signal actions, so TERM and INT need handlers for StopPodSandbox to end it
 * without waiting for a SIGKILL. Built static (no libc in the image). */
#include <signal.h>
#include <unistd.h>

static void stop(int sig) { _exit(128 + sig); }

int main(void) {
    signal(SIGTERM, stop);
    signal(SIGINT, stop);
    for (;;) pause();
}
