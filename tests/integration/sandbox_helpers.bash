#!/usr/bin/env bash
# Helpers for the sandbox bats tests (sandbox_*.bats): the probe built into
# the bundle's rootfs, annotations, host-side servers that count what
# reaches them, and a teardown that also stops those servers and insists
# that no tether-netd outlives its container.

load helpers

PROBE_SOURCE=$INTEGRATION_ROOT/tools/probe.c
PROBE_CACHE=${BATS_RUN_TMPDIR:-/tmp}/sandbox-probe

# ensure_probe: build tools/probe.c once per bats run (static: the busybox
# rootfs has no libc of its own).
ensure_probe() {
    [[ -x $PROBE_CACHE && $PROBE_CACHE -nt $PROBE_SOURCE ]] && return 0
    (
        flock 9
        if [[ ! -x $PROBE_CACHE || $PROBE_SOURCE -nt $PROBE_CACHE ]]; then
            cc -static -O2 -pthread -o "$PROBE_CACHE.tmp" "$PROBE_SOURCE" && mv "$PROBE_CACHE.tmp" "$PROBE_CACHE"
        fi
    ) 9>"$PROBE_CACHE.lock"
    [[ -x $PROBE_CACHE ]]
}

# sandbox_setup: a bundle with /bin/probe, a writable rootfs (the tests
# decide what is writable through the policy) and CAP_NET_RAW (so that a
# refused raw or packet socket is the sandbox's doing, not a missing
# capability).
sandbox_setup() {
    require_runtime
    command -v cc >/dev/null || skip "no C compiler to build the probe"
    ensure_probe || fail "building $PROBE_SOURCE failed"
    setup_bundle
    cp "$PROBE_CACHE" "$BUNDLE/rootfs/bin/probe"
    update_config '.root.readonly = false
        | .process.capabilities |= with_entries(.value += ["CAP_NET_RAW"])'
    SERVER_PIDS=()
}

sandbox_teardown() {
    local pid rc=0
    if [[ -f ${TEST_DIR:-}/server-pids ]]; then
        while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$TEST_DIR/server-pids"
        while read -r pid; do wait_pid_gone "$pid" 5 || kill -9 "$pid" 2>/dev/null || true; done <"$TEST_DIR/server-pids"
    fi
    teardown_bundle || rc=1
    # A daemon of this test's containers has --state-dir under $TEST_DIR.
    local left
    left=$(netd_pids_of_test)
    if [[ -n $left ]]; then
        echo "LEFTOVER: tether-netd processes: $left" >&2
        kill -9 $left 2>/dev/null || true
        rc=1
    fi
    [[ -n ${NETNS:-} ]] && ip netns delete "$NETNS" 2>/dev/null
    return $rc
}

setup() { sandbox_setup; }
teardown() { sandbox_teardown; }

# netd_pids_of_test: live tether-netd processes whose state dir is in this
# test's directory (never anyone else's).
netd_pids_of_test() {
    local p cmd
    for p in $(pgrep -x tether-netd 2>/dev/null); do
        cmd=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) || continue
        [[ $(awk '{print $3}' "/proc/$p/stat" 2>/dev/null) == Z ]] && continue
        [[ $cmd == *" $TEST_DIR/"* ]] && echo "$p"
    done
    return 0
}

# assert_refused_leaving_nothing TEXT...: the command just run (a create)
# failed, its output names every TEXT, and it left no state and no tether-netd.
assert_refused_leaving_nothing() {
    local text
    assert_failure
    for text in "$@"; do assert_output --partial "$text"; done
    [[ -z $(ls -A "$ROOT") ]] || fail "state left in $ROOT: $(ls -A "$ROOT")"
    [[ -z $(netd_pids_of_test) ]]
}

# update_config with extra jq arguments (helpers' update_config takes none).
_jq_config() {
    local expr=$1 tmp
    shift
    tmp=$(mktemp "$BUNDLE/config.json.XXXXXX")
    jq "$@" "$expr" "$BUNDLE/config.json" >"$tmp" || { rm -f "$tmp"; return 1; }
    mv "$tmp" "$BUNDLE/config.json"
}

# annotate KEY VALUE: a run.tether.* annotation (or any other).
annotate() {
    _jq_config '.annotations[$key] = $value' --arg key "$1" --arg value "$2"
}

# host_network: the container shares the runtime's network namespace, so
# 127.0.0.1 is the host's and only the supervisor stands between them.
host_network() {
    update_config 'del(.linux.namespaces[] | select(.type == "network"))'
}

# probes 'LABEL probe ARGS' ...: the container's process runs each probe
# and prints "LABEL <outcome>" per line; assert with assert_line.
probes() {
    local line script=$BUNDLE/rootfs/probes.sh
    echo 'exec 2>&1' >"$script"
    for line in "$@"; do
        printf "printf '%%s ' %q; %s\n" "${line%% *}" "${line#* }" >>"$script"
    done
    set_args sh /probes.sh
}

# run_container: `run` the bundle to completion; $output is what it printed.
run_container() {
    runtime run --bundle "$BUNDLE" "${1:-$ID}"
}

# free_port [tcp|udp]: a port no socket uses, in any state, below the
# kernel's ephemeral range: a port that is the local end of some live
# connection (an ephemeral port) would make a bind fail with EADDRINUSE.
free_port() {
    local proto=${1:-tcp} port i low
    low=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
    [[ $low =~ ^[0-9]+$ && $low -gt 12000 ]] || low=32768
    for ((i = 0; i < 200; i++)); do
        port=$((10000 + RANDOM % (low - 10000)))
        if [[ $proto == udp ]]; then
            ss -Haun "sport = :$port" | grep -q . && continue
        else
            ss -Hatn "sport = :$port" | grep -q . && continue
        fi
        grep -qx "$port" "$TEST_DIR/ports" 2>/dev/null && continue
        echo "$port" >>"$TEST_DIR/ports"
        echo "$port"
        return 0
    done
    fail "no free port"
}

# _start_server NAME SCRIPT ARGS...: a python3 server in the background that
# writes $TEST_DIR/NAME.ready once it listens and keeps a count of what
# reached it in $TEST_DIR/NAME.count. SERVER_PYTHON, when set, names the
# command (or function) that runs it instead of python3, e.g. one that
# enters another network namespace first.
_start_server() {
    local name=$1 i
    shift
    command -v python3 >/dev/null || skip "python3 is needed for the host-side servers"
    rm -f "$TEST_DIR/$name.ready"
    echo 0 >"$TEST_DIR/$name.count"
    "${SERVER_PYTHON:-python3}" -c "$@" "$TEST_DIR/$name" </dev/null >"$TEST_DIR/$name.log" 2>&1 3>&- &
    echo $! >>"$TEST_DIR/server-pids"
    for ((i = 0; i < 100; i++)); do
        [[ -f $TEST_DIR/$name.ready ]] && return 0
        sleep 0.1
    done
    cat "$TEST_DIR/$name.log" >&2
    fail "server $name never listened"
}

# The python the counting servers start with: count_one() records one more
# connection (or datagram) in <base>.count, replaced whole so that
# server_count never reads half a number; accept_and_count(s, serve) says
# the listener s is ready, then counts each connection and hands it to
# serve (by default: closes it). `base` is the script's last argument,
# $TEST_DIR/NAME.
_COUNTER='
import os
count = 0
def count_one():
    global count
    count += 1
    with open(base + ".count.tmp", "w") as f:
        f.write(str(count))
    os.replace(base + ".count.tmp", base + ".count")
def accept_and_count(s, serve=lambda c: c.close()):
    open(base + ".ready", "w").close()
    while True:
        c, _ = s.accept()
        count_one()
        serve(c)
'

# A TCP server that accepts and closes, counting connections. The address
# "::" listens on IPv6 and IPv4 (dual stack), so 127.0.0.1, 127.0.0.2, ::1
# and ::ffff:127.0.0.1 all reach it.
_TCP_SERVER=$_COUNTER'
import socket, sys, os
addr, port, base = sys.argv[1], int(sys.argv[2]), sys.argv[3]
family = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(family, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if family == socket.AF_INET6:
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind((addr, port))
s.listen(128)
accept_and_count(s)
'

# start_tcp_server NAME ADDR PORT
start_tcp_server() {
    _start_server "$1" "$_TCP_SERVER" "$2" "$3"
}

_UDP_SERVER=$_COUNTER'
import socket, sys, os
addr, port, base = sys.argv[1], int(sys.argv[2]), sys.argv[3]
family = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(family, socket.SOCK_DGRAM)
if family == socket.AF_INET6:
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind((addr, port))
open(base + ".ready", "w").close()
while True:
    s.recvfrom(65536)
    count_one()
'

# start_udp_server NAME ADDR PORT
start_udp_server() {
    _start_server "$1" "$_UDP_SERVER" "$2" "$3"
}

# A server that listens with a backlog of 0 and never accepts; the test
# fills its queue, after which SYNs to it are dropped and a connect hangs.
_STUCK_SERVER='
import socket, sys, time
addr, port, base = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind((addr, port))
s.listen(0)
fillers = []
for i in range(4):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.setblocking(False)
    try:
        c.connect((addr, port))
    except BlockingIOError:
        pass
    fillers.append(c)
time.sleep(0.5)
open(base + ".ready", "w").close()
while True:
    time.sleep(3600)
'

# start_stuck_server NAME PORT: 127.0.0.1:PORT, full backlog, no accept.
start_stuck_server() {
    _start_server "$1" "$_STUCK_SERVER" 127.0.0.1 "$2"
}

_ABSTRACT_SERVER=$_COUNTER'
import socket, sys, os
name, base = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("\0" + name)
s.listen(16)
accept_and_count(s)
'

# start_abstract_server NAME SOCKETNAME: a unix socket @SOCKETNAME on the host.
start_abstract_server() {
    _start_server "$1" "$_ABSTRACT_SERVER" "$2"
}

# server_count NAME: how many connections/datagrams reached server NAME.
server_count() {
    cat "$TEST_DIR/$1.count"
}

# host_probe ARGS...: the same probe, run on the host (the control that
# proves a denial inside the sandbox is the sandbox's doing).
host_probe() {
    "$PROBE_CACHE" "$@"
}

# testnet_setup PREFIX HOSTS_FILE ADDRESS...: the fixture of the transparent
# egress and DNS tests. A network namespace of the test's own ("the host",
# $NETNS, deleted by sandbox_teardown) whose lo carries ADDRESS...; and
# $WRAP, a runtime wrapper that runs tether (and so its tether-netd) in that
# namespace and in a private mount namespace whose /etc/hosts is HOSTS_FILE.
# nsenter, not `ip netns exec` (which remounts /sys: the runtime needs the
# host's /sys/fs/cgroup). KNOB in the wrapper's environment replaces
# TETHER_TEST_SOCKET_BPF=on.
testnet_setup() {
    local prefix=$1 hosts=$2 a
    shift 2
    require_netd
    command -v nsenter >/dev/null || skip "nsenter (util-linux) is needed"
    [[ -n $(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo) ]] ||
        skip "no cgroup v2 hierarchy: kernel enforcement (and so the redirect) is unavailable"
    NETNS=$prefix-$$-$RANDOM
    ip netns add "$NETNS"
    ip -n "$NETNS" link set lo up
    for a in "$@"; do ip -n "$NETNS" addr add "$a/32" dev lo; done
    WRAP=$TEST_DIR/tether-in-testnet
    cat >"$WRAP" <<SH
#!/bin/sh
exec nsenter --net=/var/run/netns/$NETNS unshare -m sh -c 'mount --bind "\$0" /etc/hosts && exec "\$@"' "$hosts" env \${KNOB:-TETHER_TEST_SOCKET_BPF=on} "$RUNTIME" "\$@"
SH
    chmod +x "$WRAP"
}

# allowlisted_testnet PREFIX ADDRESS... <HOSTS: testnet_setup with the hosts
# file $TEST_DIR/hosts read from stdin, and the allowlist the transparent
# egress and DNS tests start from: allowed.test and its subdomains, which
# the proxy may dial on 192.0.2.0/24 (TEST-NET-1, a reserved range it
# refuses by default).
allowlisted_testnet() {
    local prefix=$1
    shift
    cat >"$TEST_DIR/hosts"
    testnet_setup "$prefix" "$TEST_DIR/hosts" "$@"
    annotate run.tether.network.allowedDomains "allowed.test,*.allowed.test"
    annotate run.tether.network.allowPrivateUpstreams "192.0.2.0/24"
}

# in_testnet CMD...: a command in the test's network namespace.
in_testnet() {
    nsenter --net=/var/run/netns/"$NETNS" "$@"
}

# ns_server NAME SCRIPT ARGS...: _start_server, in the test's namespace.
ns_server() {
    SERVER_PYTHON=_testnet_python _start_server "$@"
}
# Only as _start_server's background command: exec makes the server the
# process whose pid it records, so that sandbox_teardown's kill reaches it.
# (Through a subshell, the kill stopped the subshell and left every server
# running, in a namespace already deleted.)
_testnet_python() {
    exec nsenter --net=/var/run/netns/"$NETNS" "${PYTHON:-python3}" "$@"
}
