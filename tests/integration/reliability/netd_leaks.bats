#!/usr/bin/env bats
# tether-tests: serial (1,000 connections with VmRSS and fd bounds: load-sensitive)
# Leaks: tether-netd (the per-container network daemon) under 1,000
# connections through the loopback bridge and the egress proxy, a third of
# whose clients are killed with SIGKILL mid-transfer or mid-request, ends
# with the fds it had before (/proc/PID/fd) and without unbounded memory
# growth (VmRSS).
#
# The clients are forked processes of a python driver that runs on the
# host side inside the container's network namespace (nsenter --net), where
# the daemon's listeners are (127.0.0.1:<bridged port> and 127.0.0.1:3128).
# For the daemon this is what a client in the container is: it accepts,
# dials the host, relays, and sees the client's socket closed by the kernel
# when the client dies. The upstream server runs on the host's 127.0.0.1;
# the proxy resolves allowed.test to it through a hosts file of the test's
# (tether runs under unshare -m with it bind-mounted on /etc/hosts).
#
#   NETD_LEAK_CONNECTIONS=1000   connections driven (the test runs 1000)

load reliability_helpers

setup() {
    setup_netd_bundle
    [[ -n $PYTHON ]] || skip "python3 is needed for the server and the clients"
}
teardown() { teardown_netd_bundle; }

# The upstream on the host's 127.0.0.1: reads an HTTP request head, then
# answers /fixed with 64 KiB and closes, /stream with data until the peer
# goes away (so a client killed while reading dies mid-transfer).
write_server() {
    cat >"$TEST_DIR/server.py" <<'PY'
import os, socket, sys, threading
portfile = sys.argv[1]
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(1024)
CHUNK = b"x" * 65536

def serve(conn):
    try:
        head = b""
        while b"\r\n\r\n" not in head:
            data = conn.recv(4096)
            if not data:
                return
            head += data
        if b"/stream " in head.split(b"\r\n", 1)[0]:
            conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
            while True:
                conn.sendall(CHUNK)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 65536\r\nConnection: close\r\n\r\n" + CHUNK)
    except OSError:
        pass
    finally:
        conn.close()

with open(portfile + ".tmp", "w") as f:
    f.write(str(listener.getsockname()[1]))
os.rename(portfile + ".tmp", portfile)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
PY
}

# The clients: N connections. Two thirds are clean (request, whole answer,
# close) and run on 16 threads of a forked worker; one third are killed:
# processes forked by the driver open 10 connections each, bring every one
# to the point where it should die (mid-stream, inside a tunnel, in the
# middle of a request head, before a byte), say so, and get SIGKILL. Both
# run at the same time. Prints "kind ok failed killed" per kind; exit 1 if
# a clean connection failed or a killed client did not get where it should.
write_driver() {
    cat >"$TEST_DIR/driver.py" <<'PY'
import os, select, signal, socket, sys, threading, time
bridge_port, upstream_port, total = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
PROXY = ("127.0.0.1", 3128)
BRIDGE = ("127.0.0.1", bridge_port)
NAME = "allowed.test:%d" % upstream_port
PER_KILLER = 10

def request(path, absolute=False):
    target = ("http://%s%s" % (NAME, path)) if absolute else path
    return ("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (target, NAME)).encode()

def read_head(s):
    head = b""
    while b"\r\n\r\n" not in head:
        data = s.recv(4096)
        if not data:
            raise RuntimeError("EOF before the end of the head: %r" % head[:200])
        head += data
    line = head.split(b"\r\n", 1)[0]
    if b" 200" not in line:
        raise RuntimeError("status %r" % line)
    return head.split(b"\r\n\r\n", 1)[1]

def read_body(s, rest):
    got = len(rest)
    while got < 65536:
        data = s.recv(65536)
        if not data:
            break
        got += len(data)
    if got != 65536:
        raise RuntimeError("body of %d bytes" % got)

def connect(address):
    return socket.create_connection(address, timeout=20)

def tunnel(s):
    s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (NAME, NAME)).encode())
    if read_head(s):
        raise RuntimeError("bytes after the CONNECT reply")

# Clean kinds: one whole exchange, then close.
def bridge_clean():        # request, half-close, whole answer
    s = connect(BRIDGE)
    s.sendall(request("/fixed"))
    s.shutdown(socket.SHUT_WR)
    read_body(s, read_head(s))
    s.close()

def connect_clean():       # CONNECT tunnel
    s = connect(PROXY)
    tunnel(s)
    s.sendall(request("/fixed"))
    read_body(s, read_head(s))
    s.close()

def http_clean():          # plain HTTP through the proxy
    s = connect(PROXY)
    s.sendall(request("/fixed", absolute=True))
    read_body(s, read_head(s))
    s.close()

# Killed kinds: return the socket at the point where the client dies.
def bridge_kill():         # while the upstream streams
    s = connect(BRIDGE)
    s.sendall(request("/stream"))
    read_head(s); s.recv(65536)
    return s

def connect_kill():        # inside a streaming tunnel
    s = connect(PROXY)
    tunnel(s)
    s.sendall(request("/stream"))
    read_head(s); s.recv(65536)
    return s

def http_kill():           # while a plain-HTTP answer streams
    s = connect(PROXY)
    s.sendall(request("/stream", absolute=True))
    read_head(s); s.recv(65536)
    return s

def proxy_head_kill():     # in the middle of its request head
    s = connect(PROXY)
    s.sendall(b"CONNECT allowed.te")
    return s

def bridge_idle_kill():    # before sending a byte
    return connect(BRIDGE)

CLEAN = [bridge_clean, connect_clean, http_clean]
KILLED = [bridge_kill, connect_kill, http_kill, proxy_head_kill, bridge_idle_kill]
n_killed = total // 3
n_clean = total - n_killed

def clean_worker(out):
    stats = {k.__name__: [0, 0] for k in CLEAN}
    lock = threading.Lock()
    counter = iter(range(n_clean))
    def run():
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            kind = CLEAN[i % len(CLEAN)]
            try:
                kind(); ok = 1
            except Exception as e:
                sys.stderr.write("%s: %s\n" % (kind.__name__, e)); ok = 0
            with lock:
                stats[kind.__name__][0 if ok else 1] += 1
    threads = [threading.Thread(target=run) for _ in range(16)]
    for t in threads: t.start()
    for t in threads: t.join()
    os.write(out, "".join("%s %d %d 0\n" % (k, v[0], v[1]) for k, v in stats.items()).encode())

def killer(first, count, out):
    held, kinds = [], []
    for i in range(first, first + count):
        kind = KILLED[i % len(KILLED)]
        held.append(kind()); kinds.append(kind.__name__)
    os.write(out, (" ".join(kinds) + "\n").encode())
    time.sleep(60)

r, w = os.pipe()
worker = os.fork()
if worker == 0:
    os.close(r)
    try:
        clean_worker(w); os._exit(0)
    except Exception as e:
        sys.stderr.write("clean worker: %s\n" % e); os._exit(1)
os.close(w)

killed = {k.__name__: [0, 0] for k in KILLED}
deadline = time.time() + 100
for first in range(0, n_killed, PER_KILLER):
    count = min(PER_KILLER, n_killed - first)
    kr, kw = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(kr)
        try:
            killer(first, count, kw)
        except Exception as e:
            sys.stderr.write("killer: %s\n" % e)
        os._exit(1)
    os.close(kw)
    ready, _, _ = select.select([kr], [], [], max(1, deadline - time.time()))
    line = os.read(kr, 4096).decode() if ready else ""
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    os.close(kr)
    names = line.split()
    for name in names:
        killed[name][1] += 1
    if len(names) != count:
        killed[KILLED[first % len(KILLED)].__name__][0] += count - len(names)

ready, _, _ = select.select([r], [], [], max(1, deadline - time.time()))
report = b""
while ready:
    data = os.read(r, 4096)
    if not data:
        break
    report += data
if not ready:
    os.kill(worker, signal.SIGKILL)
_, status = os.waitpid(worker, 0)
sys.stdout.write(report.decode())
failed = sum(int(line.split()[2]) for line in report.decode().splitlines())
for name, (bad, n) in sorted(killed.items()):
    print(name, 0, bad, n)
    failed += bad
if status != 0 or not report:
    print("clean worker failed or timed out")
    failed += 1
sys.exit(1 if failed else 0)
PY
}

# fd_count PID, rss_kb PID
fd_count() { ls "/proc/$1/fd" | wc -l; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

@test "netd leaks [1,000 bridge and proxy connections, a third of the clients killed -9: fds back to the baseline, RSS < 2x]" {
    local total=${NETD_LEAK_CONNECTIONS:-1000} i start=$SECONDS
    write_server
    write_driver
    timeout 300 "$PYTHON" "$TEST_DIR/server.py" "$TEST_DIR/server.port" 2>"$TEST_DIR/server.err" &
    SERVER_PIDS+=($!)
    for ((i = 0; i < 100; i++)); do
        [[ -s $TEST_DIR/server.port ]] && break
        sleep 0.1
    done
    local port
    port=$(cat "$TEST_DIR/server.port") || fail "the upstream server did not start"

    # The bridged port is the upstream's own; the proxy reaches it by name.
    cat >"$TEST_DIR/hosts" <<'HOSTS'
127.0.0.1 localhost
127.0.0.1 allowed.test
HOSTS
    cat >"$TEST_DIR/tether-with-hosts" <<SH
#!/bin/sh
exec unshare -m sh -c 'mount --bind "\$0" /etc/hosts && exec "\$@"' "$TEST_DIR/hosts" "$RUNTIME" "\$@"
SH
    chmod +x "$TEST_DIR/tether-with-hosts"
    update_config ".annotations[\"run.tether.network.allowLocalOutboundPorts\"] = \"$port\"
        | .annotations[\"run.tether.network.allowedDomains\"] = \"allowed.test\"
        | .annotations[\"run.tether.network.allowPrivateUpstreams\"] = \"127.0.0.0/8\""
    runtime_bin "$TEST_DIR/tether-with-hosts" "$ROOT" create --bundle "$BUNDLE" "$ID"
    assert_success
    runtime_bin "$TEST_DIR/tether-with-hosts" "$ROOT" start "$ID"
    assert_success
    local netd init
    netd=$(cat "$ROOT/$ID/netd.pid")
    init=$(state_field "$ID" pid)
    [[ $netd =~ ^[0-9]+$ && $init =~ ^[0-9]+$ ]] || fail "no netd.pid or init pid"
    [[ $(cat "/proc/$netd/comm") == tether-netd ]]
    drive() {
        timeout -k 5 150 nsenter --net="/proc/$init/ns/net" "$PYTHON" "$TEST_DIR/driver.py" "$port" "$port" "$1"
    }

    # Settled: one fd count for 1 s (a killed client's connection is torn
    # down by the daemon's event loop shortly after the kernel closes it).
    settle() {
        local want=$1 n last=-1 same=0 i
        for ((i = 0; i < 300; i++)); do
            n=$(fd_count "$netd")
            [[ -n $want && $n -le $want ]] && { echo "$n"; return; }
            if [[ $n == "$last" ]]; then same=$((same + 1)); else same=0; fi
            [[ -z $want && $same -ge 10 ]] && { echo "$n"; return; }
            last=$n
            sleep 0.1
        done
        echo "$n"
    }

    local cold warm rss_warm after rss_after
    cold=$(fd_count "$netd")
    # Warm-up: 24 connections of all kinds, so that what the daemon opens
    # once and keeps (resolver, decision log) is in the baseline.
    echo "started in $((SECONDS - start)) s" >&2
    run drive 24
    echo "warm-up ($((SECONDS - start)) s): $output" >&2
    assert_success
    local warm_output=$output
    warm=$(settle)
    rss_warm=$(rss_kb "$netd")
    ls -l "/proc/$netd/fd" >"$TEST_DIR/fds-before"

    echo "settled ($((SECONDS - start)) s)" >&2
    run drive "$total"
    echo "$total connections ($((SECONDS - start)) s; kind ok failed killed):" >&2
    echo "$output" >&2
    assert_success
    after=$(settle "$warm")
    rss_after=$(rss_kb "$netd")
    ls -l "/proc/$netd/fd" >"$TEST_DIR/fds-after"
    echo "tether-netd $netd: fds at start $cold, after warm-up $warm, after $total connections $after;" \
        "VmRSS ${rss_warm} kB -> ${rss_after} kB; $((SECONDS - start)) s" >&2

    # Every kind ran, and every killable one was really killed.
    local line kind ok bad killed
    while read -r kind ok bad killed; do
        [[ $((ok + killed)) -gt 0 ]] || fail "no $kind client completed"
    done <<<"$output"
    [[ $(awk '{s += $4} END {print s}' <<<"$output") -ge $((total / 3)) ]] || fail "fewer than a third of the clients were killed"
    if [[ $after -gt $warm ]]; then
        diff "$TEST_DIR/fds-before" "$TEST_DIR/fds-after" | awk '{print $1, $(NF-2), $(NF-1), $NF}' >&2
        fail "tether-netd leaked $((after - warm)) fds ($warm before, $after after $total connections)"
    fi
    [[ $rss_after -lt $((2 * rss_warm)) ]] || fail "tether-netd VmRSS grew from $rss_warm kB to $rss_after kB"
    # Every connection the daemon saw end left its decision line (bridge: when
    # the relay closed both sides; proxy: per request), but for the clients
    # killed in the middle of a request head, which never made a request.
    local lines want
    lines=$(grep -c '"syscall":"\(bridge\|proxy\)"' "$ROOT/$ID/decisions.jsonl")
    want=$(awk '$1 != "proxy_head_kill" {s += $2 + $4} END {print s}' <<<"$warm_output"$'\n'"$output")
    echo "decision lines (bridge, proxy): $lines, expected $want" >&2
    [[ $lines -eq $want ]] || fail "$lines bridge/proxy decision lines for $want finished connections"
    # The daemon still serves.
    run drive 12
    assert_success
}
