#!/usr/bin/env bats
# tether-tests: serial (timing of concurrent verbs)
# Parallel callers: distinct containers do not interfere; verbs on one
# container are serialised by its lock (exactly one start wins, exactly one
# create of an id wins).

load helpers

# in_parallel N OUTDIR ARGS...: run the runtime N times at once with the same
# arguments; exit codes land in OUTDIR/rc.<i>.
in_parallel() {
    local n=$1 dir=$2 i
    shift 2
    mkdir -p "$dir"
    for ((i = 0; i < n; i++)); do
        (
            timeout -k 5 "$RUNTIME_TIMEOUT" "$RUNTIME" --root "$ROOT" "$@" \
                </dev/null >"$dir/out.$i" 2>&1 3>&-
            echo $? >"$dir/rc.$i"
        ) 3>&- &
    done
    wait
}

count_rc() {
    local dir=$1 want=$2
    cat "$dir"/rc.* | grep -c "^$want\$" || true
}

@test "create [two containers in parallel, both created]" {
    id1=$(new_id)
    id2=$(new_id)
    CREATED_IDS+=("$id1" "$id2")
    (timeout 30 "$RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" "$id1" </dev/null >"$TEST_DIR/o1" 2>&1 3>&-; echo $? >"$TEST_DIR/rc1") 3>&- &
    (timeout 30 "$RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" "$id2" </dev/null >"$TEST_DIR/o2" 2>&1 3>&-; echo $? >"$TEST_DIR/rc2") 3>&- &
    wait
    [[ $(cat "$TEST_DIR/rc1") == 0 ]] || { cat "$TEST_DIR/o1" >&2; false; }
    [[ $(cat "$TEST_DIR/rc2") == 0 ]] || { cat "$TEST_DIR/o2" >&2; false; }
    [[ $(state_field "$id1" status) == created ]]
    [[ $(state_field "$id2" status) == created ]]
    [[ $(state_field "$id1" pid) != "$(state_field "$id2" pid)" ]]
    runtime start "$id1"
    assert_success
    runtime start "$id2"
    assert_success
    runtime list -q
    assert_line "$id1"
    assert_line "$id2"
}

@test "create [same id from 4 callers at once: exactly one wins]" {
    CREATED_IDS+=("$ID")
    in_parallel 4 "$TEST_DIR/par" create --bundle "$BUNDLE" "$ID"
    [[ $(count_rc "$TEST_DIR/par" 0) == 1 ]] || { head "$TEST_DIR"/par/* >&2; false; }
    [[ $(state_field "$ID" status) == created ]]
    runtime list -q
    assert_output "$ID"
}

@test "start [4 callers at once on one container: exactly one wins]" {
    set_args sh -c 'echo started-once; trap "exit 143" TERM; sleep 3600 & wait'
    runtime create --bundle "$BUNDLE" "$ID"
    assert_success
    in_parallel 4 "$TEST_DIR/par" start "$ID"
    [[ $(count_rc "$TEST_DIR/par" 0) == 1 ]] || { head "$TEST_DIR"/par/* >&2; false; }
    wait_for_status "$ID" running
    [[ $(container_output "$ID" | grep -c started-once) == 1 ]]
}

@test "delete --force [4 callers at once on a running container: all exit 0, nothing left]" {
    create_running
    in_parallel 4 "$TEST_DIR/par" delete --force "$ID"
    [[ $(count_rc "$TEST_DIR/par" 0) == 4 ]] || { head "$TEST_DIR"/par/* >&2; false; }
    assert_no_leftovers "$ROOT" "$ID"
}

@test "state during kill and delete [never a torn or invalid JSON document]" {
    create_running
    for ((i = 0; i < 10; i++)); do
        timeout 30 "$RUNTIME" --root "$ROOT" state "$ID" </dev/null >"$TEST_DIR/s.$i" 2>/dev/null 3>&- &
    done
    runtime delete --force "$ID"
    assert_success
    wait
    for ((i = 0; i < 10; i++)); do
        # Either a whole document or nothing (the container was gone).
        [[ ! -s $TEST_DIR/s.$i ]] || jq -e .id "$TEST_DIR/s.$i" >/dev/null
    done
}
