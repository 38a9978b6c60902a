#!/usr/bin/env python3
"""A --console-socket receiver, as conmon and containerd's shim are.

Usage: console-receiver.py SOCKET OUT [INPUT]

Listens on SOCKET (unix, SOCK_STREAM), accepts one connection and receives
one message with one fd by SCM_RIGHTS. Writes to OUT.meta:
    name=<the message payload>
    target=<readlink of the received fd>
    winsize=<rows>x<cols>
then writes INPUT (if given) to the fd and copies everything read from it to
OUT until the pty reports EOF/EIO (the container's last writer closed).
Gives up after 60 seconds so a broken runtime cannot hang a test.
"""
import array
import fcntl
import os
import signal
import socket
import struct
import sys
import termios

signal.alarm(60)
path, out = sys.argv[1], sys.argv[2]
data_in = sys.argv[3] if len(sys.argv) > 3 else None

server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(1)
conn, _ = server.accept()
fds = array.array("i")
msg, ancdata, _, _ = conn.recvmsg(64, socket.CMSG_LEN(4 * fds.itemsize))
for level, kind, data in ancdata:
    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
        fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
conn.close()
server.close()
if len(fds) != 1:
    with open(out + ".meta", "w") as meta:
        meta.write("name=%s\nfds=%d\n" % (msg.decode(errors="replace"), len(fds)))
    sys.exit(1)
master = fds[0]
rows, cols = struct.unpack("HHHH", fcntl.ioctl(master, termios.TIOCGWINSZ, b"\0" * 8))[:2]
with open(out + ".meta", "w") as meta:
    meta.write("name=%s\ntarget=%s\nwinsize=%dx%d\n" % (msg.decode(errors="replace"), os.readlink("/proc/self/fd/%d" % master), rows, cols))
if data_in is not None:
    os.write(master, data_in.encode())
with open(out, "wb") as sink:
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        sink.write(chunk)
        sink.flush()
