#!/usr/bin/env python3
"""subreaper.py CMD [ARG...]: run CMD as a child subreaper that reaps.

Real clients (conmon under podman, the shim under containerd) are child
subreapers: a container init whose `create` has exited is reparented to them
and reaped the moment it exits. A test that drives the runtime straight from
a shell has no such parent, so exited inits go to the machine's PID 1, which
may reap them lazily; a process count then measures PID 1, not the runtime.
Running the commands under this wrapper makes the test behave like a client.

Exits with CMD's status once CMD and every orphan it left have been reaped
(orphans still running after 30 s are left alone and reported on stderr).
"""
import ctypes
import os
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: subreaper.py CMD [ARG...]", file=sys.stderr)
        return 2
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print(f"subreaper.py: prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(ctypes.get_errno())}", file=sys.stderr)
        return 2
    child = os.fork()
    if child == 0:
        try:
            os.execvp(sys.argv[1], sys.argv[1:])
        finally:
            os._exit(127)
    status = 127
    # Reap everything: the command, and any orphan reparented to us.
    while True:
        try:
            pid, wstatus = os.waitpid(-1, 0)
        except ChildProcessError:
            return status
        if pid == child:
            status = os.waitstatus_to_exitcode(wstatus)
            if status < 0:
                status = 128 - status
            break
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return status
        if pid == 0:
            time.sleep(0.05)
    print("subreaper.py: orphans still running after 30 s", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
