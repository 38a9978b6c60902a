#!/usr/bin/env bats
# The loopback bridge of tether-netd, seen from inside real containers: a
# container with its own network namespace reaches exactly the host loopback
# ports listed in run.tether.network.allowLocalOutboundPorts, byte for byte,
# with half-close and many connections at once; the daemon never outlives
# the container. Servers are started by the tests on the host's 127.0.0.1.

load helpers

setup() {
    setup_netd_bundle
    write_servers
}
teardown() { teardown_netd_bundle; }

# Host-side test servers (127.0.0.1 only, a free port each, printed to a
# file). Every accepted connection appends a line to <portfile>.accepted.
write_servers() {
    cat >"$TEST_DIR/servers.py" <<'PY'
import hashlib, socket, sys, threading
mode, portfile = sys.argv[1], sys.argv[2]
count = int(sys.argv[3]) if len(sys.argv) > 3 else 0
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(1024)
barrier = threading.Barrier(count, timeout=60) if count else None
lock = threading.Lock()

def serve(conn):
    with conn:
        if mode == "hash":      # read to EOF (the client's FIN), answer the digest
            digest, total = hashlib.sha256(), 0
            while chunk := conn.recv(65536):
                digest.update(chunk); total += len(chunk)
            conn.sendall(f"{digest.hexdigest()} {total}\n".encode())
        elif mode == "barrier": # answer only once `count` clients are connected at once
            line = conn.recv(100)
            barrier.wait()
            conn.sendall(line)
        elif mode == "send":    # send the file named by argv[4], then close
            with open(sys.argv[4], "rb") as f:
                conn.sendall(f.read())

with open(portfile + ".tmp", "w") as f:
    f.write(str(listener.getsockname()[1]))
import os; os.rename(portfile + ".tmp", portfile)
while True:
    conn, _ = listener.accept()
    with lock, open(portfile + ".accepted", "a") as f:
        f.write("1\n")
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
PY
}

# start_server NAME MODE [ARGS...]: sets NAME_PORT (bounded: the server dies
# after 5 minutes whatever happens).
start_server() {
    local name=$1 mode=$2 i
    shift 2
    timeout 300 "$PYTHON" "$TEST_DIR/servers.py" "$mode" "$TEST_DIR/$name.port" "$@" &
    SERVER_PIDS+=($!)
    for ((i = 0; i < 100; i++)); do
        [[ -s $TEST_DIR/$name.port ]] && break
        sleep 0.1
    done
    [[ -s $TEST_DIR/$name.port ]] || fail "server $name did not start"
    printf -v "${name}_PORT" '%s' "$(cat "$TEST_DIR/$name.port")"
}

accepted() {
    [[ -f $TEST_DIR/$1.port.accepted ]] && wc -l <"$TEST_DIR/$1.port.accepted" || echo 0
}

# allow_ports LIST: the annotation, in the config of $BUNDLE.
allow_ports() {
    update_config ".annotations[\"run.tether.network.allowLocalOutboundPorts\"] = \"$1\""
}

# run_container_script SCRIPT: `tether run` of a container whose process is
# `sh -c SCRIPT`; $output is what it printed.
run_container_script() {
    set_args sh -c "$1"
    runtime run --bundle "$BUNDLE" "$ID"
}

netd_pid() {
    cat "$ROOT/$ID/netd.pid" 2>/dev/null
}

@test "bridge: a listed host loopback port is reachable, a non-listed one is not" {
    start_server open hash
    start_server closed hash
    allow_ports "$open_PORT"
    run_container_script "echo hello | timeout 5 nc 127.0.0.1 $open_PORT; echo rc=\$?; echo hello | timeout 5 nc 127.0.0.1 $closed_PORT; echo rc=\$?"
    assert_success
    assert_line --index 0 "$(echo hello | sha256sum | cut -d' ' -f1) 6"
    assert_line --index 1 "rc=0"
    assert_line --regexp '^rc=[1-9]$'
    [[ $(accepted open) -eq 1 ]]
    [[ $(accepted closed) -eq 0 ]] || fail "the non-listed host port was reached"
}

@test "bridge: 10 MB byte-identical both ways, with half-close" {
    head -c 10485760 /dev/urandom >"$TEST_DIR/big"
    cp "$TEST_DIR/big" "$BUNDLE/rootfs/big"
    local want
    want=$(sha256sum "$TEST_DIR/big" | cut -d' ' -f1)
    start_server up hash
    start_server down send 0 "$TEST_DIR/big"
    allow_ports "$up_PORT,$down_PORT"
    # Upload: the server answers only after the container's FIN (half-close).
    # Download: the server closes after the last byte.
    run_container_script "timeout 30 nc 127.0.0.1 $up_PORT </big; timeout 30 nc 127.0.0.1 $down_PORT </dev/null | sha256sum"
    assert_success
    assert_line --index 0 "$want 10485760"
    assert_line --index 1 "$want  -"
}

@test "bridge: 200 concurrent connections are served at once" {
    # The server answers nobody until all 200 are connected at the same time:
    # a bridge that serialised or dropped connections would never get there.
    start_server many barrier 200
    allow_ports "$many_PORT"
    update_config '.root.readonly = false'
    RUNTIME_TIMEOUT=120
    run_container_script "i=0; while [ \$i -lt 200 ]; do (echo c\$i | timeout 60 nc 127.0.0.1 $many_PORT >/tmp/r\$i) & i=\$((i+1)); done; wait; cat /tmp/r* | grep -c '^c'"
    assert_success
    assert_output "200"
}

@test "bridge: a range is expanded, and more than 1024 ports are refused with a message" {
    start_server ranged hash
    allow_ports "$((ranged_PORT - 2))-$((ranged_PORT + 2))"
    run_container_script "echo x | timeout 5 nc 127.0.0.1 $ranged_PORT"
    assert_success
    assert_output "$(echo x | sha256sum | cut -d' ' -f1) 2"

    ID=$(new_id)
    allow_ports "20000-21100"
    runtime create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial "run.tether.network.allowLocalOutboundPorts: more than 1024 ports"
}

@test "bridge: the daemon is gone after delete" {
    start_server open hash
    allow_ports "$open_PORT"
    create_running
    local pid
    pid=$(netd_pid)
    [[ $pid =~ ^[0-9]+$ ]] || fail "no netd.pid in $ROOT/$ID"
    [[ $(cat /proc/$pid/comm) == tether-netd ]]
    runtime kill "$ID" KILL
    wait_for_status "$ID" stopped
    runtime delete "$ID"
    assert_success
    wait_pid_gone "$pid" || fail "tether-netd ($pid) survived delete"
}

@test "bridge: the daemon is gone after kill -9 of the init" {
    start_server open hash
    allow_ports "$open_PORT"
    create_running
    local pid init
    pid=$(netd_pid)
    init=$(state_field "$ID" pid)
    [[ $pid =~ ^[0-9]+$ && $init =~ ^[0-9]+$ ]]
    kill -9 "$init"
    wait_pid_gone "$pid" || fail "tether-netd ($pid) survived its container's init"
    [[ ! -e $ROOT/$ID/netd.sock ]]
}

@test "bridge: decisions.jsonl has one line per bridged connection with byte counts" {
    start_server open hash
    allow_ports "$open_PORT"
    set_args sh -c "echo hello | timeout 5 nc 127.0.0.1 $open_PORT >/dev/null; sleep 3600"
    create_running
    local log=$ROOT/$ID/decisions.jsonl i
    # The line is written when the relay has closed both sides (bounded wait).
    for ((i = 0; i < 100; i++)); do
        grep -q '"syscall":"bridge"' "$log" 2>/dev/null && break
        sleep 0.1
    done
    run jq -c 'select(.syscall == "bridge") | [.port, .verdict, .bytes_up, .bytes_down, .protocol, .error]' "$log"
    assert_output "[$open_PORT,\"allow\",6,67,\"tcp\",\"\"]"
}

# ------------------------------------------------- podman hooks.d mode (runc)

# hooks_d_config: the hook as contrib/hooks.d/tether-netd.json gives it (no
# --runtime), with a state dir inside the test's directory.
hooks_d_config() {
    update_config ".hooks.prestart = [{\"path\": \"$NETD\", \"args\": [\"tether-netd\", \"--state-dir\", \"$TEST_DIR/netd-state\"]}]"
}

@test "hooks.d under runc: the hook refuses a network policy it cannot enforce" {
    command -v runc >/dev/null || skip "runc is not installed"
    start_server open hash
    allow_ports "$open_PORT"
    hooks_d_config
    set_args true
    runtime_bin runc "$TEST_DIR/root-runc" run --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial "not started by tether"
    assert_output --partial "run.tether.sandbox.bestEffort=true"
    [[ $(accepted open) -eq 0 ]]
}

@test "hooks.d under runc with bestEffort: the bridge works and the log says nothing is enforced" {
    command -v runc >/dev/null || skip "runc is not installed"
    start_server open hash
    allow_ports "$open_PORT"
    update_config '.annotations["run.tether.sandbox.bestEffort"] = "true"'
    hooks_d_config
    set_args sh -c "echo hello | timeout 5 nc 127.0.0.1 $open_PORT"
    runtime_bin runc "$TEST_DIR/root-runc" run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output "$(echo hello | sha256sum | cut -d' ' -f1) 6"
    run grep -c '"rule":"not-enforced:plain-oci-hook-bestEffort"' "$TEST_DIR/netd-state/decisions.jsonl"
    assert_output 1
}

@test "bridge: a state dir 220 bytes deep creates, bridges, proxies and deletes (sockets at any depth)" {
    start_server open hash
    allow_ports "$open_PORT"
    update_config '.annotations["run.tether.network.allowedDomains"] = "example.com"'
    ROOT=$TEST_DIR/root-$(printf 'x%.0s' $(seq 1 130))
    local id
    id=$(printf '%064d' 0 | tr 0 a)
    echo "$id" >>"$TEST_DIR/ids"
    [[ $((${#ROOT} + 1 + ${#id})) -ge 220 ]] || fail "state dir only $((${#ROOT} + 1 + ${#id})) bytes"
    set_args sh -c "echo hello | timeout 5 nc 127.0.0.1 $open_PORT; printf 'GET http://not-allowed.test/ HTTP/1.0\r\n\r\n' | timeout 5 nc 127.0.0.1 3128 | head -n1"
    runtime run --bundle "$BUNDLE" "$id"
    assert_success
    assert_line --index 0 "$(echo hello | sha256sum | cut -d' ' -f1) 6"
    assert_line --partial "403"
    [[ ! -e $ROOT/$id ]] || fail "the state dir is left behind"
}
