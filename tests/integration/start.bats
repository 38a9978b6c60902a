#!/usr/bin/env bats
# start: releases the waiting init; only a created container can start.

load helpers

@test "start [created -> running, process runs its args]" {
    set_args sh -c 'echo started-ok; trap "exit 143" TERM; sleep 3600 & wait'
    runtime create --bundle "$BUNDLE" "$ID"
    assert_success
    runtime start "$ID"
    assert_success
    wait_for_status "$ID" running
    run container_output "$ID"
    assert_line started-ok
}

@test "start [exiting process -> stopped]" {
    set_args true
    runtime create --bundle "$BUNDLE" "$ID"
    assert_success
    runtime start "$ID"
    assert_success
    wait_for_status "$ID" stopped
}

@test "start twice [second start fails]" {
    create_running
    runtime start "$ID"
    assert_failure
}

@test "start [stopped container fails]" {
    set_args true
    runtime create --bundle "$BUNDLE" "$ID"
    runtime start "$ID"
    assert_success
    wait_for_status "$ID" stopped
    runtime start "$ID"
    assert_failure
}

@test "start [unknown id fails]" {
    runtime start no-such-container
    assert_failure
}

@test "start without an id [usage error]" {
    runtime start
    assert_failure
}
