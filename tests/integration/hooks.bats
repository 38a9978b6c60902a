#!/usr/bin/env bats
# OCI hooks: each of the six kinds runs at its moment, in its namespace, with
# the container state on stdin; timeouts and failures fail their step and
# leave nothing behind.

load helpers

# The hook: records "<kind> <mnt ns> <pid ns>" in LOGDIR/order and its stdin
# in LOGDIR/<kind>.json. Plain POSIX sh: it also runs inside the busybox
# rootfs (startContainer is resolved in the container).
write_hook() {
    cat >"$1" <<'HOOK'
#!/bin/sh
kind=$1 logdir=$2
cat >"$logdir/$kind.json"
echo "$kind $(readlink /proc/self/ns/mnt) $(readlink /proc/self/ns/pid)" >>"$logdir/order"
exit "${3:-0}"
HOOK
    chmod +x "$1"
}

setup() {
    require_runtime
    setup_bundle
    HOOK=$TEST_DIR/hook.sh
    LOGDIR=$TEST_DIR/hooklog
    mkdir -p "$LOGDIR"
    write_hook "$HOOK"
    write_hook "$BUNDLE/rootfs/hook.sh"
    # startContainer runs in the container: its log dir is bound there.
    update_config ".mounts += [{\"destination\": \"/hooklog\", \"type\": \"bind\", \"source\": \"$LOGDIR\", \"options\": [\"bind\"]}]"
}

teardown() {
    teardown_bundle
}

# hook_json KIND [EXIT] [TIMEOUT]: a host hook entry for config.json.
hook_json() {
    local kind=$1 code=${2:-0} timeout=${3:-}
    jq -cn --arg p "$HOOK" --arg k "$kind" --arg d "$LOGDIR" --arg c "$code" --arg t "$timeout" \
        '{path: $p, args: ["hook.sh", $k, $d, $c]} + (if $t == "" then {} else {timeout: ($t | tonumber)} end)'
}

# the entry for startContainer: the hook inside the rootfs, logging to /hooklog.
start_hook_json() {
    local code=${1:-0}
    jq -cn --arg c "$code" '{path: "/hook.sh", args: ["hook.sh", "startContainer", "/hooklog", $c]}'
}

all_hooks() {
    update_config ".hooks = {
        prestart: [$(hook_json prestart)],
        createRuntime: [$(hook_json createRuntime)],
        createContainer: [$(hook_json createContainer)],
        startContainer: [$(start_hook_json)],
        poststart: [$(hook_json poststart)],
        poststop: [$(hook_json poststop)]}"
}

kinds_in_order() {
    awk '{print $1}' "$LOGDIR/order" | tr '\n' ' '
}

# ns_of KIND COLUMN: the namespace a hook kind recorded (2 = mnt, 3 = pid).
ns_of() {
    awk -v k="$1" -v c="$2" '$1 == k {print $c}' "$LOGDIR/order"
}

wait_for_file_lines() {
    local file=$1 want=$2 i
    for ((i = 0; i < 200; i++)); do
        [[ -f $file && $(wc -l <"$file") -ge $want ]] && return 0
        sleep 0.1
    done
    return 1
}

@test "hooks [all six kinds: order, status on stdin, namespaces]" {
    all_hooks
    host_mnt=$(readlink /proc/self/ns/mnt)
    runtime create --bundle "$BUNDLE" "$ID"
    assert_success
    # create runs exactly the three create-time hooks, in the spec's order.
    [[ $(kinds_in_order) == "prestart createRuntime createContainer " ]]
    pid=$(state_field "$ID" pid)
    init_mnt=$(readlink "/proc/$pid/ns/mnt")
    init_pidns=$(readlink "/proc/$pid/ns/pid")
    [[ $init_mnt != "$host_mnt" ]]

    runtime start "$ID"
    assert_success
    # start returns once the process was executed: startContainer (in the
    # init, before the exec) is done, and poststart (in `start`) came after.
    [[ $(kinds_in_order) == "prestart createRuntime createContainer startContainer poststart " ]]

    runtime kill "$ID" KILL
    wait_for_status "$ID" stopped
    runtime delete "$ID"
    assert_success
    [[ $(kinds_in_order) == *" poststop " ]]

    # Namespaces: runtime-side hooks in ours, the container-side ones in the init's.
    [[ $(ns_of prestart 2) == "$host_mnt" ]]
    [[ $(ns_of createRuntime 2) == "$host_mnt" ]]
    [[ $(ns_of createContainer 2) == "$init_mnt" ]]
    [[ $(ns_of startContainer 2) == "$init_mnt" ]]
    [[ $(ns_of startContainer 3) == "$init_pidns" ]]
    [[ $(ns_of poststart 2) == "$host_mnt" ]]
    [[ $(ns_of poststop 2) == "$host_mnt" ]]

    # The state on stdin: status per the spec, id, pid, bundle. Every hook
    # before the process runs comes after lifecycle step 2 (the environment
    # is built): "created", as crun says (runc 1.1 says "creating" for the
    # create-time three; docs/architecture.md, "Hooks").
    [[ $(jq -r .status "$LOGDIR/prestart.json") == created ]]
    [[ $(jq -r .status "$LOGDIR/createRuntime.json") == created ]]
    [[ $(jq -r .status "$LOGDIR/createContainer.json") == created ]]
    [[ $(jq -r .status "$LOGDIR/startContainer.json") == created ]]
    [[ $(jq -r .status "$LOGDIR/poststart.json") == running ]]
    [[ $(jq -r .status "$LOGDIR/poststop.json") == stopped ]]
    for kind in prestart createRuntime createContainer startContainer poststart poststop; do
        [[ $(jq -r .id "$LOGDIR/$kind.json") == "$ID" ]]
        [[ $(jq -r .pid "$LOGDIR/$kind.json") == "$pid" ]]
        [[ $(jq -r .bundle "$LOGDIR/$kind.json") == "$BUNDLE" ]]
    done
}

@test "hooks [env and args reach the hook]" {
    cat >"$TEST_DIR/envhook.sh" <<'HOOK'
#!/bin/sh
echo "$1|$HOOK_VAR|${OTHER_VAR:-unset}" >"$1"
HOOK
    chmod +x "$TEST_DIR/envhook.sh"
    update_config ".hooks.prestart = [{path: \"$TEST_DIR/envhook.sh\", args: [\"custom-argv0\", \"$TEST_DIR/env.out\"], env: [\"HOOK_VAR=hello\"]}]"
    OTHER_VAR=leaked runtime create --bundle "$BUNDLE" "$ID"
    assert_success
    # args[1..] as given, and the hook's env, not ours.
    run cat "$TEST_DIR/env.out"
    assert_output "$TEST_DIR/env.out|hello|unset"
}

@test "hooks [createRuntime past its timeout is killed and fails create]" {
    cat >"$TEST_DIR/slow.sh" <<HOOK
#!/bin/sh
echo \$\$ >"$TEST_DIR/slow.pid"
exec sleep 600
HOOK
    chmod +x "$TEST_DIR/slow.sh"
    update_config ".hooks.createRuntime = [{path: \"$TEST_DIR/slow.sh\", timeout: 1}]"
    runtime create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial "timeout"
    # The hook itself is gone, and so is everything create made.
    wait_pid_gone "$(cat "$TEST_DIR/slow.pid")"
    assert_no_leftovers "$ROOT" "$ID"
}

@test "hooks [failing prestart, createRuntime, createContainer: create fails, nothing left]" {
    for kind in prestart createRuntime createContainer; do
        local id
        id=$(new_id)
        update_config ".hooks = {$kind: [$(hook_json "$kind" 3)]}"
        runtime create --bundle "$BUNDLE" "$id"
        assert_failure
        assert_output --partial "$kind hook"
        assert_output --partial "exit status 3"
        assert_no_leftovers "$ROOT" "$id"
    done
    # Every kind did run (and failed) once.
    [[ $(kinds_in_order) == "prestart createRuntime createContainer " ]]
}

@test "hooks [failing startContainer: start fails with the hook's error, the process never runs, stopped]" {
    set_args sh -c 'touch /hooklog/process-ran'
    update_config ".hooks = {startContainer: [$(start_hook_json 5)], poststop: [$(hook_json poststop)]}"
    runtime create --bundle "$BUNDLE" "$ID"
    assert_success
    runtime --log "$TEST_DIR/log.json" --log-format json start "$ID"
    assert_failure
    # One JSON error naming the hook (containerd reads the last error line).
    [[ $(jq -s 'length' "$TEST_DIR/log.json") == 1 ]]
    [[ $(jq -r .msg "$TEST_DIR/log.json") == *"startContainer hook /hook.sh failed with exit status 5"* ]]
    # Stopped when start returns, not some time later.
    [[ $(state_field "$ID" status) == stopped ]]
    [[ ! -e $LOGDIR/process-ran ]]
    # The lifecycle goes on at delete: poststop runs.
    runtime delete "$ID"
    assert_success
    [[ $(kinds_in_order) == "startContainer poststop " ]]
    assert_no_leftovers "$ROOT" "$ID"
}

@test "hooks [run with a failing startContainer: run fails, poststop runs, nothing left]" {
    set_args sh -c 'touch /hooklog/process-ran'
    update_config ".hooks = {startContainer: [$(start_hook_json 5)], poststop: [$(hook_json poststop)]}"
    runtime --log "$TEST_DIR/log.json" --log-format json run --bundle "$BUNDLE" "$ID"
    assert_failure
    # A runtime error (not the exit code of a process that never ran).
    [[ $(jq -s 'length' "$TEST_DIR/log.json") == 1 ]]
    [[ $(jq -r .msg "$TEST_DIR/log.json") == *"startContainer hook /hook.sh failed with exit status 5"* ]]
    [[ ! -e $LOGDIR/process-ran ]]
    [[ $(kinds_in_order) == "startContainer poststop " ]]
    assert_no_leftovers "$ROOT" "$ID"
}

@test "hooks [startContainer past its timeout is killed and fails start]" {
    printf '#!/bin/sh\necho $$ >/hooklog/slow.pid\nexec sleep 600\n' >"$BUNDLE/rootfs/slow.sh"
    chmod +x "$BUNDLE/rootfs/slow.sh"
    set_args sh -c 'touch /hooklog/process-ran'
    update_config '.hooks = {startContainer: [{path: "/slow.sh", timeout: 1}]}'
    runtime create --bundle "$BUNDLE" "$ID"
    assert_success
    runtime start "$ID"
    assert_failure
    assert_output --partial "timeout"
    [[ $(state_field "$ID" status) == stopped ]]
    [[ ! -e $LOGDIR/process-ran ]]
    runtime delete "$ID"
    assert_success
    assert_no_leftovers "$ROOT" "$ID"
}

@test "hooks [working directory: the bundle; startContainer: process.cwd in the container]" {
    printf '#!/bin/sh\necho "$1 $(pwd -P)" >>"$2/cwd"\n' >"$TEST_DIR/cwd.sh"
    cp "$TEST_DIR/cwd.sh" "$BUNDLE/rootfs/cwd.sh"
    chmod +x "$TEST_DIR/cwd.sh" "$BUNDLE/rootfs/cwd.sh"
    local host='{path: $p, args: ["cwd.sh", $k, $d]}'
    hook() { jq -cn --arg p "$TEST_DIR/cwd.sh" --arg k "$1" --arg d "$LOGDIR" "$host"; }
    update_config ".process.cwd = \"/tmp\" | .hooks = {
        prestart: [$(hook prestart)], createRuntime: [$(hook createRuntime)],
        createContainer: [$(hook createContainer)],
        startContainer: [{path: \"/cwd.sh\", args: [\"cwd.sh\", \"startContainer\", \"/hooklog\"]}],
        poststart: [$(hook poststart)], poststop: [$(hook poststop)]}"
    # The runtime's own working directory is not the bundle (podman's case).
    cd /
    runtime create --bundle "$BUNDLE" "$ID"
    assert_success
    runtime start "$ID"
    assert_success
    runtime delete --force "$ID"
    assert_success
    bundle=$(cd "$BUNDLE" && pwd -P)
    run cat "$LOGDIR/cwd"
    assert_output "prestart $bundle
createRuntime $bundle
createContainer $bundle
startContainer /tmp
poststart $bundle
poststop $bundle"
}

@test "hooks [failing poststart is logged, the container keeps running]" {
    update_config ".hooks = {poststart: [$(hook_json poststart 4)]}"
    runtime create --bundle "$BUNDLE" "$ID"
    assert_success
    # Logged as a warning (stdio may be the container's: only --log gets it).
    runtime --log "$TEST_DIR/log" start "$ID"
    assert_success
    grep -q "poststart hook.*exit status 4" "$TEST_DIR/log"
    [[ $(state_field "$ID" status) == running ]]
}

@test "hooks [failing poststop: logged, the next poststop hooks still run, delete succeeds]" {
    update_config ".hooks = {poststop: [$(hook_json poststop 6), $(hook_json poststop-second)]}"
    runtime create --bundle "$BUNDLE" "$ID"
    assert_success
    runtime --log "$TEST_DIR/log" delete --force "$ID"
    assert_success
    grep -q "poststop hook.*exit status 6" "$TEST_DIR/log"
    [[ $(kinds_in_order) == "poststop poststop-second " ]]
    assert_no_leftovers "$ROOT" "$ID"
}

@test "hooks [a failing hook's stderr is in the error and in the --log JSON, as runc does]" {
    cat >"$TEST_DIR/boom.sh" <<'EOF'
#!/bin/sh
cat >/dev/null
echo "progress on stdout"
echo "boom: the database is not there" >&2
exit 3
EOF
    chmod +x "$TEST_DIR/boom.sh"
    update_config ".hooks = {prestart: [{path: \"$TEST_DIR/boom.sh\"}]}"
    runtime --log "$TEST_DIR/log.json" --log-format json create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial "prestart hook $TEST_DIR/boom.sh failed with exit status 3: stderr: boom: the database is not there"
    assert_output --partial "stdout: progress on stdout"
    run jq -r .msg "$TEST_DIR/log.json"
    assert_output --partial "exit status 3: stderr: boom: the database is not there"
    assert_no_leftovers "$ROOT" "$ID"
    # A hook that succeeds prints nothing of its own to the caller.
    printf '#!/bin/sh\ncat >/dev/null\necho quiet\n' >"$TEST_DIR/ok.sh"
    chmod +x "$TEST_DIR/ok.sh"
    update_config ".hooks = {prestart: [{path: \"$TEST_DIR/ok.sh\"}]}"
    set_args true
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    refute_output --partial quiet
}

@test "hooks [a hook that leaves a daemon holding its stdout and stderr does not hold create]" {
    cat >"$TEST_DIR/daemonize.sh" <<EOF
#!/bin/sh
cat >/dev/null
sleep 30 &
echo \$! >"$TEST_DIR/daemon.pid"
exit 0
EOF
    chmod +x "$TEST_DIR/daemonize.sh"
    update_config ".hooks = {prestart: [{path: \"$TEST_DIR/daemonize.sh\"}]}"
    set_args true
    SECONDS=0
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    [[ $SECONDS -lt 10 ]] || fail "create waited for the hook's daemon ($SECONDS s)"
    kill "$(cat "$TEST_DIR/daemon.pid")" 2>/dev/null || true
}
