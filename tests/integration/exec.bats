#!/usr/bin/env bats
# exec: a new process inside a running container, in all of its namespaces
# and its cgroup, with the container's process security; exit codes, tty,
# --preserve-fds, --detach/--pid-file, --process, and errors callers parse.

load helpers

# exec_raw ARGS...: the runtime's exec with the caller's fds as given, for
# --detach (its process must not hold bats' capture pipe).
exec_detached() {
    timeout -k 5 "$RUNTIME_TIMEOUT" "$RUNTIME" --root "$ROOT" exec "$@" </dev/null >"$TEST_DIR/exec.out" 2>&1 3>&-
}

with_fds() {
    "$@" 3</dev/null 4</dev/null 5</dev/null 6</dev/null 7</dev/null 8</dev/null 9</dev/null
}

@test "exec [joins every namespace of the init]" {
    create_running
    pid=$(state_field "$ID" pid)
    runtime exec "$ID" sh -c 'for n in mnt pid net ipc uts user cgroup; do readlink /proc/self/ns/$n; done'
    assert_success
    expected=$(for n in mnt pid net ipc uts user cgroup; do readlink "/proc/$pid/ns/$n"; done)
    [[ $output == "$expected" ]]
    # And it is not the host's mount namespace.
    [[ $(readlink "/proc/$pid/ns/mnt") != "$(readlink /proc/self/ns/mnt)" ]]
}

@test "exec [is in the container's cgroup, sees the init as pid 1]" {
    create_running
    pid=$(state_field "$ID" pid)
    runtime exec "$ID" sh -c 'cat /proc/self/cgroup; echo ---; cat /proc/1/cgroup; echo ---; echo $$'
    assert_success
    mine=$(awk '/^---$/ {exit} {print}' <<<"$output")
    init=$(awk '/^---$/ {n++; next} n == 1 {print}' <<<"$output")
    [[ -n $mine && $mine == "$init" ]]
    # Its own pid is in the container's pid namespace: small, not 1.
    last=$(tail -n 1 <<<"$output")
    [[ $last -gt 1 && $last -lt 100 ]]
}

@test "exec [returns the process's exit code, 128+signal when killed]" {
    create_running
    runtime exec "$ID" sh -c 'exit 42'
    assert_failure 42
    runtime exec "$ID" sh -c 'kill -9 $$'
    assert_failure 137
    runtime exec "$ID" true
    assert_success
}

@test "exec [same capabilities and no_new_privs as the init]" {
    create_running
    pid=$(state_field "$ID" pid)
    init_caps=$(grep -E '^(CapEff|CapBnd|NoNewPrivs)' "/proc/$pid/status")
    runtime exec "$ID" grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status
    assert_success
    [[ $output == "$init_caps" ]]
    # Root's full set would be much more than the container's default.
    [[ $output != *"CapEff:	000001ffffffffff"* ]]
}

@test "exec --no-new-privs [sets no_new_privs in a container without it]" {
    update_config '.process.noNewPrivileges = false'
    create_running
    runtime exec "$ID" grep NoNewPrivs /proc/self/status
    assert_output --partial "NoNewPrivs:	0"
    runtime exec --no-new-privs "$ID" grep NoNewPrivs /proc/self/status
    assert_success
    assert_output --partial "NoNewPrivs:	1"
}

@test "exec --user --env --cwd [flags shape the process]" {
    create_running
    runtime exec --user 1000:1001 --env FOO=bar --cwd /tmp "$ID" sh -c 'echo "$(id -u):$(id -g) $FOO $(pwd)"'
    assert_success
    assert_output "1000:1001 bar /tmp"
}

@test "exec --cwd [a missing directory is refused and not created, as runc's exec does]" {
    create_running
    runtime exec --cwd /no/such/dir "$ID" pwd
    assert_failure
    assert_output --partial /no/such/dir
    [[ ! -e $BUNDLE/rootfs/no ]]
}

@test "exec --user [HOME from the container's /etc/passwd, as in the init]" {
    create_running
    runtime exec --user 65534:65534 "$ID" sh -c 'echo "$HOME"'
    assert_success
    assert_output /nonexistent
    runtime exec --env HOME=/given --user 0:0 "$ID" sh -c 'echo "$HOME"'
    assert_success
    assert_output /given
}

@test "exec --process [process.json: args, env, cwd, user]" {
    create_running
    cat >"$TEST_DIR/process.json" <<'JSON'
{"args": ["sh", "-c", "echo \"$(id -u) $GREETING $(pwd)\""], "env": ["PATH=/bin:/usr/bin", "GREETING=hi"],
 "cwd": "/etc", "user": {"uid": 7, "gid": 7}}
JSON
    runtime exec --process "$TEST_DIR/process.json" "$ID"
    assert_success
    assert_output "7 hi /etc"
}

@test "exec -t [has a tty]; without -t [no tty]" {
    create_running
    runtime exec -t "$ID" tty
    assert_success
    assert_output --regexp '^/dev/pts/[0-9]+'
    runtime exec "$ID" tty
    assert_failure
    assert_output --partial "not a tty"
}

@test "exec --preserve-fds 2 [exactly fds 3 and 4 pass]" {
    create_running
    run with_fds timeout 30 "$RUNTIME" --root "$ROOT" exec --preserve-fds 2 "$ID" sh -c 'ls -1 /proc/$$/fd; true'
    assert_success
    [[ $(sort -n <<<"$output" | tr '\n' ' ') == "0 1 2 3 4 " ]]
    run with_fds timeout 30 "$RUNTIME" --root "$ROOT" exec "$ID" sh -c 'ls -1 /proc/$$/fd; true'
    assert_success
    [[ $(sort -n <<<"$output" | tr '\n' ' ') == "0 1 2 " ]]
}

@test "exec --detach --pid-file [returns at once, pid file has the host pid, no newline]" {
    create_running
    init=$(state_field "$ID" pid)
    exec_detached --detach --pid-file "$TEST_DIR/exec.pid" "$ID" sleep 300
    [[ $(cat "$TEST_DIR/exec.pid") =~ ^[1-9][0-9]*$ ]]
    [[ $(tail -c 1 "$TEST_DIR/exec.pid" | od -An -c | tr -d ' ') != '\n' ]]
    pid=$(cat "$TEST_DIR/exec.pid")
    [[ $(tr '\0' ' ' <"/proc/$pid/cmdline") == "sleep 300 " ]]
    [[ $(readlink "/proc/$pid/ns/pid") == "$(readlink "/proc/$init/ns/pid")" ]]
    kill -9 "$pid"
}

@test "exec [into a stopped container fails clearly]" {
    set_args true
    runtime create --bundle "$BUNDLE" "$ID"
    runtime start "$ID"
    wait_for_status "$ID" stopped
    runtime exec "$ID" true
    assert_failure
    assert_output --partial "stopped"
}

@test "exec [into a paused container fails clearly]" {
    create_running
    runtime pause "$ID"
    [[ $status -eq 0 ]] || skip "pause is not implemented yet"
    runtime exec "$ID" true
    assert_failure
    assert_output --partial "paused"
    runtime resume "$ID"
}

@test "exec --log-format json [missing command: one JSON object, podman's 127 wording]" {
    create_running
    runtime --log "$TEST_DIR/log.json" --log-format json exec "$ID" no-such-command
    assert_failure
    [[ $(jq -s 'length' "$TEST_DIR/log.json") == 1 ]]
    [[ $(jq -r '.level' "$TEST_DIR/log.json") == error ]]
    [[ $(jq -r '.msg' "$TEST_DIR/log.json") == *'executable file not found in $PATH'* ]]
    # The failed exec left no process behind; the container still runs.
    [[ $(state_field "$ID" status) == running ]]
}

@test "exec [warnings of the process setup reach --log, as create's do]" {
    create_running
    # Ambient without inheritable is skipped with a warning (security_caps.bats
    # checks the same for create); the exec child's own log lines die with it.
    jq -n '{args: ["true"], cwd: "/", env: ["PATH=/bin:/usr/bin"], user: {uid: 1000, gid: 1000},
            capabilities: {bounding: ["CAP_KILL"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"],
                           ambient: ["CAP_KILL"]}}' >"$TEST_DIR/process.json"
    runtime --log "$TEST_DIR/exec.log" --log-format json exec --process "$TEST_DIR/process.json" "$ID"
    assert_success
    [[ $(jq -r 'select(.level == "warning") | .msg' "$TEST_DIR/exec.log" | grep -ci 'ambient capability cap_kill') == 1 ]]
}

@test "create --log-format json [missing command: executable file not found in \$PATH]" {
    set_args no-such-command
    runtime --log "$TEST_DIR/log.json" --log-format json create --bundle "$BUNDLE" "$ID"
    assert_failure
    [[ $(jq -s 'length' "$TEST_DIR/log.json") == 1 ]]
    [[ $(jq -r '.msg' "$TEST_DIR/log.json") == *'executable file not found in $PATH'* ]]
    assert_no_leftovers "$ROOT" "$ID"
}

@test "exec [a non-executable file: permission denied]" {
    create_running
    runtime exec "$ID" /etc/passwd
    assert_failure
    assert_output --partial "permission denied"
}
