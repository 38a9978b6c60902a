#!/usr/bin/env bats
# kill ID [SIGNAL]: names and numbers, SIGTERM by default, --all.

load helpers

# A process that reports the signals it receives, then exits on TERM.
signal_reporter() {
    set_args sh -c 'trap "echo got-USR1" USR1; trap "echo got-HUP" HUP; trap "echo got-TERM; exit 143" TERM; echo ready; while true; do sleep 0.2; done'
}

wait_for_output_line() {
    local id=$1 line=$2 i
    for ((i = 0; i < 200; i++)); do
        container_output "$id" | grep -qx "$line" && return 0
        sleep 0.1
    done
    echo "container $id never printed '$line'; output: $(container_output "$id")" >&2
    return 1
}

@test "kill [default signal is SIGTERM]" {
    signal_reporter
    create_running
    wait_for_output_line "$ID" ready
    runtime kill "$ID"
    assert_success
    wait_for_output_line "$ID" got-TERM
    wait_for_status "$ID" stopped
}

@test "kill ID 15 [numeric signal, as podman sends it]" {
    signal_reporter
    create_running
    wait_for_output_line "$ID" ready
    runtime kill "$ID" 15
    assert_success
    wait_for_output_line "$ID" got-TERM
    wait_for_status "$ID" stopped
}

@test "kill ID 10 / HUP / SIGHUP [numbers and names, container keeps running]" {
    signal_reporter
    create_running
    wait_for_output_line "$ID" ready
    runtime kill "$ID" 10
    assert_success
    wait_for_output_line "$ID" got-USR1
    runtime kill "$ID" HUP
    assert_success
    wait_for_output_line "$ID" got-HUP
    runtime kill "$ID" SIGHUP
    assert_success
    [[ $(state_field "$ID" status) == running ]]
}

@test "kill ID KILL [running container stops]" {
    create_running
    pid=$(state_field "$ID" pid)
    runtime kill "$ID" KILL
    assert_success
    wait_for_status "$ID" stopped
    wait_pid_gone "$pid"
}

@test "kill ID SIGKILL [created container stops]" {
    runtime create --bundle "$BUNDLE" "$ID"
    assert_success
    runtime kill "$ID" SIGKILL
    assert_success
    wait_for_status "$ID" stopped
}

@test "kill ID 9 [numeric KILL]" {
    create_running
    runtime kill "$ID" 9
    assert_success
    wait_for_status "$ID" stopped
}

@test "kill --all ID KILL [every process of the container dies]" {
    set_args sh -c 'sleep 3600 & sleep 3600 & trap "exit 143" TERM; wait'
    create_running
    runtime kill --all "$ID" KILL
    assert_success
    wait_for_status "$ID" stopped
    # teardown asserts that no process of the bundle survived.
}

@test "kill [invalid signal name fails, container unaffected]" {
    create_running
    runtime kill "$ID" NOSUCHSIG
    assert_failure
    [[ $(state_field "$ID" status) == running ]]
}

@test "kill [stopped container fails]" {
    set_args true
    runtime create --bundle "$BUNDLE" "$ID"
    runtime start "$ID"
    wait_for_status "$ID" stopped
    runtime kill "$ID" KILL
    assert_failure
}

@test "kill [unknown id fails]" {
    runtime kill no-such-container KILL
    assert_failure
}
