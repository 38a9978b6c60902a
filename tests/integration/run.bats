#!/usr/bin/env bats
# run: create + start (+ wait and delete unless --detach).

load helpers

@test "run [exit code of the process]" {
    set_args sh -c 'exit 7'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_equal "$status" 7
}

@test "run [exit 0, output on stdout, container deleted afterwards]" {
    set_args sh -c 'echo run-says-hi'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output run-says-hi
    runtime state "$ID"
    assert_failure
    assert_no_leftovers "$ROOT" "$ID"
}

@test "run -b [short form, stdin is the caller's]" {
    set_args cat
    run bash -c 'echo piped-through | "$1" --root "$2" run -b "$3" "$4"' _ "$RUNTIME" "$ROOT" "$BUNDLE" "$ID"
    CREATED_IDS+=("$ID")
    assert_success
    assert_output piped-through
}

@test "run --detach [returns at once, container running]" {
    runtime run --detach --bundle "$BUNDLE" "$ID"
    assert_success
    wait_for_status "$ID" running
}

@test "run -d --pid-file [pid file like create's]" {
    runtime run -d --bundle "$BUNDLE" --pid-file "$TEST_DIR/pid" "$ID"
    assert_success
    run cat "$TEST_DIR/pid"
    assert_output --regexp '^[1-9][0-9]*$'
    [[ $(cat "$TEST_DIR/pid") == "$(state_field "$ID" pid)" ]]
}

@test "run [missing executable fails with a 'not found' style message]" {
    set_args /no/such/binary
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure
    # podman maps these words to exit code 127.
    assert_output --regexp 'no such file or directory|executable file not found|No such file'
}

@test "run [PATH lookup of a bare command name]" {
    set_args hostname
    update_config '.hostname = "run-path-lookup"'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output run-path-lookup
}
