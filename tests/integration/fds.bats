#!/usr/bin/env bats
# No fd of the caller reaches the container beyond 0-2 and --preserve-fds.
# (containerd's shim leaks its ttrpc socket into create as fd 3.)

load helpers

# The container lists the fds its pid 1 (sh) holds; a simple command, so
# sh itself opens nothing while ls runs ("; true" stops busybox sh from
# exec'ing ls as pid 1, whose own directory fd would be listed).
list_fds_args() {
    set_args sh -c 'ls -1 /proc/1/fd; true'
}

# fds_of TEXT: "0 1 2 " from one fd number per line.
fds_of() {
    sort -n <<<"$1" | tr '\n' ' '
}

# with_fds CMD...: run CMD with fds 3..9 open in the caller.
with_fds() {
    "$@" 3</dev/null 4</dev/null 5</dev/null 6</dev/null 7</dev/null 8</dev/null 9</dev/null
}

@test "run [fds 3..9 open in the caller do not reach the container]" {
    list_fds_args
    run with_fds timeout 30 "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$ID"
    CREATED_IDS+=("$ID")
    assert_success
    [[ $(fds_of "$output") == "0 1 2 " ]]
}

@test "create + start [fds 3..9 of the caller do not reach the container]" {
    list_fds_args
    CREATED_IDS+=("$ID")
    with_fds timeout 30 "$RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" "$ID" \
        </dev/null >"$TEST_DIR/out" 2>&1
    runtime start "$ID"
    assert_success
    wait_for_status "$ID" stopped
    [[ $(fds_of "$(cat "$TEST_DIR/out")") == "0 1 2 " ]]
}

@test "run --preserve-fds 2 [exactly fds 3 and 4 pass]" {
    list_fds_args
    run with_fds timeout 30 "$RUNTIME" --root "$ROOT" run --preserve-fds 2 --bundle "$BUNDLE" "$ID"
    CREATED_IDS+=("$ID")
    assert_success
    [[ $(fds_of "$output") == "0 1 2 3 4 " ]]
}

@test "create --preserve-fds 1 [fd 3 passes, is the caller's file]" {
    set_args sh -c 'cat <&3'
    echo preserved-content >"$TEST_DIR/data"
    CREATED_IDS+=("$ID")
    timeout 30 "$RUNTIME" --root "$ROOT" create --preserve-fds 1 --bundle "$BUNDLE" "$ID" \
        3<"$TEST_DIR/data" 4</dev/null 5</dev/null </dev/null >"$TEST_DIR/out" 2>&1
    runtime start "$ID"
    assert_success
    wait_for_status "$ID" stopped
    run cat "$TEST_DIR/out"
    assert_output preserved-content
}
