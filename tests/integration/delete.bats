#!/usr/bin/env bats
# delete [--force]: removes the container and everything it owned.

load helpers

@test "delete [stopped container: state, cgroup and process gone]" {
    set_args true
    runtime create --bundle "$BUNDLE" "$ID"
    runtime start "$ID"
    wait_for_status "$ID" stopped
    runtime delete "$ID"
    assert_success
    runtime state "$ID"
    assert_failure
    assert_no_leftovers "$ROOT" "$ID"
}

@test "delete [created container, never started]" {
    runtime create --bundle "$BUNDLE" "$ID"
    assert_success
    pid=$(state_field "$ID" pid)
    runtime delete "$ID"
    assert_success
    wait_pid_gone "$pid"
    assert_no_leftovers "$ROOT" "$ID"
}

@test "delete [running container without --force fails and keeps it running]" {
    create_running
    runtime delete "$ID"
    assert_failure
    [[ $(state_field "$ID" status) == running ]]
}

@test "delete --force [running container]" {
    create_running
    pid=$(state_field "$ID" pid)
    runtime delete --force "$ID"
    assert_success
    wait_pid_gone "$pid"
    runtime state "$ID"
    assert_failure
    assert_no_leftovers "$ROOT" "$ID"
}

@test "delete -f [short form, created container]" {
    runtime create --bundle "$BUNDLE" "$ID"
    runtime delete -f "$ID"
    assert_success
    assert_no_leftovers "$ROOT" "$ID"
}

@test "delete --force [unknown id exits 0]" {
    runtime delete --force no-such-container
    assert_success
}

@test "delete [unknown id fails]" {
    runtime delete no-such-container
    assert_failure
}

@test "delete --force [twice, as containerd's cleanup does]" {
    create_running
    runtime delete --force "$ID"
    assert_success
    runtime delete --force "$ID"
    assert_success
}

@test "delete [id can be reused afterwards]" {
    runtime create --bundle "$BUNDLE" "$ID"
    runtime delete --force "$ID"
    assert_success
    runtime create --bundle "$BUNDLE" "$ID"
    assert_success
    [[ $(state_field "$ID" status) == created ]]
}

@test "delete --force [without PATH or HOME in the environment, as podman's cleanup runs it]" {
    create_running
    run env -i XDG_RUNTIME_DIR= "$RUNTIME" --root "$ROOT" delete --force "$ID"
    assert_success
    assert_no_leftovers "$ROOT" "$ID"
}
