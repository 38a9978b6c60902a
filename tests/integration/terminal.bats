#!/usr/bin/env bats
# process.terminal: the pty master goes to --console-socket exactly as runc
# sends it (conmon and containerd's shim decode it), consoleSize, /dev/console;
# `run` and `exec` without a console socket relay the pty to their own stdio.

load helpers

RECEIVER=$INTEGRATION_ROOT/tools/console-receiver.py

setup() {
    require_runtime
    setup_bundle
    command -v python3 >/dev/null || skip "python3 is needed for the console-socket receiver"
    SOCK=$TEST_DIR/console.sock
    update_config '.process.terminal = true'
}

teardown() {
    [[ -n ${RECEIVER_PID:-} ]] && kill "$RECEIVER_PID" 2>/dev/null
    teardown_bundle
}

# start_receiver [INPUT]: the receiver listens on $SOCK, output in $TEST_DIR/pty.
start_receiver() {
    python3 "$RECEIVER" "$SOCK" "$TEST_DIR/pty" "$@" 3>&- &
    RECEIVER_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        [[ -S $SOCK ]] && return 0
        sleep 0.1
    done
    return 1
}

# wait_receiver: the receiver read until the pty closed.
wait_receiver() {
    local i
    for ((i = 0; i < 300; i++)); do
        kill -0 "$RECEIVER_PID" 2>/dev/null || { wait "$RECEIVER_PID"; return; }
        sleep 0.1
    done
    return 1
}

@test "create --console-socket [one message: \"/dev/ptmx\" + the container's pty master]" {
    set_args sh -c 'tty; echo hello-from-the-pty'
    start_receiver
    runtime create --console-socket "$SOCK" --bundle "$BUNDLE" "$ID"
    assert_success
    runtime start "$ID"
    assert_success
    wait_for_status "$ID" stopped
    wait_receiver
    run cat "$TEST_DIR/pty.meta"
    assert_line "name=/dev/ptmx"
    # The master of the container's own devpts instance, not the host's.
    assert_line "target=/dev/pts/ptmx"
    run cat "$TEST_DIR/pty"
    assert_output --regexp '/dev/pts/[0-9]+'
    assert_output --partial hello-from-the-pty
}

@test "create --console-socket [consoleSize, controlling tty, /dev/console is the pty]" {
    update_config '.process.consoleSize = {height: 31, width: 97}'
    set_args sh -c 'stty size; echo "console=$(stat -c %t:%T /dev/console) stdin=$(stat -L -c %t:%T /proc/self/fd/0)"; cat /proc/self/stat'
    start_receiver
    runtime create --console-socket "$SOCK" --bundle "$BUNDLE" "$ID"
    assert_success
    runtime start "$ID"
    wait_for_status "$ID" stopped
    wait_receiver
    grep -qx "winsize=31x97" "$TEST_DIR/pty.meta"
    run cat "$TEST_DIR/pty"
    assert_output --partial "31 97"
    # /dev/console and the process's stdin are the same pty slave (major 0x88 = 136).
    console=$(grep -o 'console=[0-9a-f:]*' <<<"$output")
    stdin=$(grep -o 'stdin=[0-9a-f:]*' <<<"$output")
    [[ ${console#console=} == "${stdin#stdin=}" && ${console#console=} == 88:* ]]
    # /proc/self/stat field 7 (tty_nr) is non-zero: it is the controlling tty.
    tty_nr=$(grep -E '^[0-9]+ \(cat\)' <<<"$output" | tr -d '\r' | awk '{print $7}')
    [[ $tty_nr -ne 0 ]]
}

@test "create --console-socket [input typed into the master reaches the process]" {
    set_args sh -c 'read line; echo "got:$line"'
    start_receiver $'typed-text\n'
    runtime create --console-socket "$SOCK" --bundle "$BUNDLE" "$ID"
    assert_success
    runtime start "$ID"
    wait_for_status "$ID" stopped
    wait_receiver
    run cat "$TEST_DIR/pty"
    assert_output --partial "got:typed-text"
}

@test "create [terminal without --console-socket is refused, nothing left]" {
    runtime create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial "console-socket"
    assert_no_leftovers "$ROOT" "$ID"
}

@test "create [--console-socket without terminal is refused, nothing left]" {
    update_config '.process.terminal = false'
    runtime create --console-socket "$SOCK" --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial "terminal"
    assert_no_leftovers "$ROOT" "$ID"
}

@test "create --console-socket [unreachable socket fails create, nothing left]" {
    runtime create --console-socket "$TEST_DIR/nobody-listens" --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial "console-socket"
    assert_no_leftovers "$ROOT" "$ID"
}

@test "run [terminal, no console socket: tether relays the pty to its stdio]" {
    set_args sh -c 'tty; echo relayed-output; exit 3'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure 3
    assert_output --regexp '/dev/pts/[0-9]+'
    assert_output --partial relayed-output
}

@test "run [terminal on a real tty: the caller's terminal mode is restored]" {
    command -v script >/dev/null || skip "script(1) is needed for a real tty"
    set_args sh -c 'echo inside'
    CREATED_IDS+=("$ID")
    run timeout 60 script -qec "stty -g >'$TEST_DIR/before'; '$RUNTIME' --root '$ROOT' run --bundle '$BUNDLE' '$ID'; stty -g >'$TEST_DIR/after'" /dev/null </dev/null
    assert_success
    assert_output --partial inside
    [[ -s $TEST_DIR/before ]]
    diff "$TEST_DIR/before" "$TEST_DIR/after"
}

@test "exec --tty --console-socket --detach [podman's exec: master sent, process runs]" {
    update_config '.process.terminal = false'
    create_running
    start_receiver
    timeout 30 "$RUNTIME" --root "$ROOT" exec --detach --tty --console-socket "$SOCK" --pid-file "$TEST_DIR/exec.pid" \
        "$ID" sh -c 'tty; echo exec-on-pty' </dev/null >"$TEST_DIR/exec.out" 2>&1 3>&-
    wait_receiver
    grep -qx "name=/dev/ptmx" "$TEST_DIR/pty.meta"
    run cat "$TEST_DIR/pty"
    assert_output --regexp '/dev/pts/[0-9]+'
    assert_output --partial exec-on-pty
}

@test "exec --process with \"terminal\": true [containerd's exec: no --tty flag]" {
    update_config '.process.terminal = false'
    create_running
    start_receiver
    echo '{"terminal": true, "args": ["sh", "-c", "tty; echo shim-exec"], "cwd": "/", "env": ["PATH=/bin"]}' >"$TEST_DIR/p.json"
    timeout 30 "$RUNTIME" --root "$ROOT" exec --process "$TEST_DIR/p.json" --console-socket "$SOCK" --detach \
        --pid-file "$TEST_DIR/exec.pid" "$ID" </dev/null >"$TEST_DIR/exec.out" 2>&1 3>&-
    wait_receiver
    run cat "$TEST_DIR/pty"
    assert_output --regexp '/dev/pts/[0-9]+'
    assert_output --partial shim-exec
}
