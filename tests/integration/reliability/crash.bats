#!/usr/bin/env bats
# tether-tests: serial (50 parallel creates and create/delete races: load- and timing-sensitive)
# Crash consistency: the runtime SIGKILLed at every step of create, start and
# delete (test-only fault points, TETHER_FAULT=<name>), then `state` answers
# without crashing and `delete --force` leaves nothing. And the state dir
# under 50 parallel creates and deletes.

load reliability_helpers

setup() {
    reliability_setup
}

teardown() {
    teardown_bundle
}

# faulty NAME ARGS...: the runtime with TETHER_FAULT=NAME; $status, $output.
faulty() {
    local fault=$1
    shift
    printf '%s\n' "${*: -1}" >>"$TEST_DIR/ids"
    echo "$RUNTIME" >"$ROOT.bin"
    status=0
    TETHER_FAULT=$fault timeout -k 5 "$RUNTIME_TIMEOUT" "$RUNTIME" --root "$ROOT" "$@" \
        </dev/null >"$TEST_DIR/faulty.out" 2>&1 3>&- || status=$?
    output=$(cat "$TEST_DIR/faulty.out")
}

# state_after_crash ID: `state` exits, prints no crash text, and either fails
# with a message or prints one valid JSON document.
state_after_crash() {
    local id=$1
    invoke state "$id"
    echo "state after crash: $status: $output" >&2
    [[ $status -lt 124 ]]
    ! grep -Eq "$CRASH_PATTERN" <<<"$output"
    if [[ $status -eq 0 ]]; then
        jq -e .status <<<"$output" >/dev/null
    else
        [[ -n $output ]]
    fi
}

# delete_force_cleans ID
delete_force_cleans() {
    local id=$1
    invoke delete --force "$id"
    echo "delete --force: $status: $output" >&2
    [[ $status -eq 0 ]]
    assert_no_leftovers "$ROOT" "$id"
}

@test "crash [runtime killed at each step of create: state is not a crash, delete --force leaves nothing]" {
    local point
    for point in create:after-state-dir create:after-cgroup create:before-clone create:after-clone create:after-go \
        create:after-ready create:after-pid-file; do
        ID=$(new_id)
        faulty "$point" create --bundle "$BUNDLE" --pid-file "$TEST_DIR/pid" "$ID"
        echo "$point: create -> $status" >&2
        # The fault point fired: the runtime died (137 through timeout) or failed.
        [[ $status -ne 0 ]]
        state_after_crash "$ID"
        # A second create of the same id must not succeed over the debris
        # silently, nor crash.
        delete_force_cleans "$ID"
        # The id can be reused: the debris is really gone.
        invoke create --bundle "$BUNDLE" "$ID"
        [[ $status -eq 0 ]]
        delete_force_cleans "$ID"
    done
}

# `run` starts the init through pipes, not the fifos of create's state
# directory: killed between its create and its start, it leaves an init that
# reads EOF and exits, not one that waits forever for a start nobody sends.
@test "crash [run killed between create and start: the init exits, delete --force leaves nothing]" {
    faulty create:after-pid-file run --bundle "$BUNDLE" --pid-file "$TEST_DIR/pid" "$ID"
    [[ $status -ne 0 ]]
    [[ -s $TEST_DIR/pid ]]
    wait_for_status "$ID" stopped
    state_after_crash "$ID"
    delete_force_cleans "$ID"
}

@test "crash [runtime killed in start after the fifo is gone: delete --force leaves nothing]" {
    invoke create --bundle "$BUNDLE" "$ID"
    assert_success
    faulty start:after-unlink start "$ID"
    [[ $status -ne 0 ]]
    state_after_crash "$ID"
    delete_force_cleans "$ID"
}

@test "crash [runtime killed in delete before the state dir goes: a second delete --force finishes]" {
    invoke create --bundle "$BUNDLE" "$ID"
    assert_success
    faulty delete:before-remove delete --force "$ID"
    [[ $status -ne 0 ]]
    state_after_crash "$ID"
    delete_force_cleans "$ID"
}

@test "crash [state, list, kill, start of a half-created container: errors, never crashes]" {
    faulty create:after-state-dir create --bundle "$BUNDLE" "$ID"
    [[ $status -ne 0 ]]
    local verb
    for verb in state start "kill KILL"; do
        # shellcheck disable=SC2086
        invoke ${verb%% *} "$ID" ${verb#* }
        [[ $verb == state ]] && invoke state "$ID"
        echo "$verb: $status: $output" >&2
        [[ $status -ne 0 && $status -lt 124 ]]
        ! grep -Eq "$CRASH_PATTERN" <<<"$output"
        [[ -n $output ]]
    done
    invoke list
    [[ $status -eq 0 ]]
    invoke list --format json
    [[ $status -eq 0 ]]
    jq -e . <<<"$output" >/dev/null
    delete_force_cleans "$ID"
}

@test "crash [corrupt and truncated state.json: state fails with a message, delete --force cleans]" {
    invoke create --bundle "$BUNDLE" "$ID"
    assert_success
    local pid
    pid=$(state_field "$ID" pid)
    [[ -n $pid ]]
    cp "$ROOT/$ID/state.json" "$TEST_DIR/state.good"
    printf '{"id": "%s", "pid": ' "$ID" >"$ROOT/$ID/state.json"
    invoke state "$ID"
    [[ $status -ne 0 && $status -lt 124 ]]
    assert_output --partial 'state.json'
    ! grep -Eq "$CRASH_PATTERN" <<<"$output"
    # The real state back, so that delete --force can find and kill the init.
    cp "$TEST_DIR/state.good" "$ROOT/$ID/state.json"
    delete_force_cleans "$ID"
    wait_pid_gone "$pid"
}

@test "concurrency [50 creates then 50 deletes in parallel: no lost or corrupt state]" {
    local n=50 i ids=()
    for ((i = 0; i < n; i++)); do ids+=("$(new_id)-$i"); done
    printf '%s\n' "${ids[@]}" >>"$TEST_DIR/ids"
    echo "$RUNTIME" >"$ROOT.bin"
    for id in "${ids[@]}"; do
        timeout -k 5 120 "$RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" "$id" \
            </dev/null >"$TEST_DIR/create-$id.out" 2>&1 3>&- &
    done
    wait
    # Every create's result is visible: each id is listed and its state is
    # one valid document saying created.
    invoke list --format json
    assert_success
    [[ $(jq length <<<"$output") -eq $n ]]
    for id in "${ids[@]}"; do
        [[ $(state_field "$id" status) == created ]] || { echo "$id: $(cat "$TEST_DIR/create-$id.out")" >&2; return 1; }
    done
    for id in "${ids[@]}"; do
        timeout -k 5 120 "$RUNTIME" --root "$ROOT" delete --force "$id" </dev/null >/dev/null 2>&1 &
    done
    wait
    invoke list --format json
    assert_success
    [[ $(jq length <<<"$output") -eq 0 || $output == null ]]
    assert_no_leftovers "$ROOT" "${ids[@]}"
}

@test "concurrency [create and delete --force of the same 50 ids racing: consistent end state]" {
    local n=50 i ids=()
    for ((i = 0; i < n; i++)); do ids+=("$(new_id)-$i"); done
    printf '%s\n' "${ids[@]}" >>"$TEST_DIR/ids"
    echo "$RUNTIME" >"$ROOT.bin"
    for id in "${ids[@]}"; do
        timeout -k 5 120 "$RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" "$id" </dev/null >/dev/null 2>&1 3>&- &
        timeout -k 5 120 "$RUNTIME" --root "$ROOT" delete --force "$id" </dev/null >/dev/null 2>&1 &
    done
    wait
    # Whatever order they ran in, each id is either fully there (a valid
    # state, status created) or fully gone; never a directory without state.
    local st
    for id in "${ids[@]}"; do
        if [[ -e $ROOT/$id ]]; then
            st=$(state_field "$id" status)
            [[ $st == created ]] || { echo "$id: half there (status '$st')" >&2; return 1; }
        fi
    done
    for id in "${ids[@]}"; do
        timeout -k 5 120 "$RUNTIME" --root "$ROOT" delete --force "$id" </dev/null >/dev/null 2>&1 &
    done
    wait
    assert_no_leftovers "$ROOT" "${ids[@]}"
}
