#!/usr/bin/env bats
# create: the container exists, its init waits for start, the pid file is
# written the way podman and containerd read it.

load helpers

@test "create --bundle [status created, init alive and waiting]" {
    runtime create --bundle "$BUNDLE" "$ID"
    assert_success
    run state_field "$ID" status
    assert_output created
    pid=$(state_field "$ID" pid)
    [[ $pid -gt 0 ]]
    [[ -d /proc/$pid ]]
    # The user process has not run yet: nothing was exec'd from the bundle.
    run _marked_pids
    assert_output ""
}

@test "create -b [short form of --bundle]" {
    runtime create -b "$BUNDLE" "$ID"
    assert_success
    run state_field "$ID" status
    assert_output created
}

@test "create [bundle defaults to the current directory]" {
    cd "$BUNDLE"
    runtime create "$ID"
    assert_success
    run state_field "$ID" bundle
    assert_output "$BUNDLE"
}

@test "create --bundle with a relative path [state shows the absolute bundle]" {
    cd "$TEST_DIR"
    runtime create --bundle bundle "$ID"
    assert_success
    run state_field "$ID" bundle
    assert_output "$BUNDLE"
}

@test "create --pid-file [decimal host pid, no trailing newline]" {
    runtime create --bundle "$BUNDLE" --pid-file "$TEST_DIR/pid" "$ID"
    assert_success
    [[ -f $TEST_DIR/pid ]]
    run cat "$TEST_DIR/pid"
    assert_output --regexp '^[1-9][0-9]*$'
    # containerd parses it with strconv.Atoi: a trailing newline is fatal.
    [[ $(tail -c1 "$TEST_DIR/pid" | od -An -c | tr -d ' ') != '\n' ]]
    [[ $(cat "$TEST_DIR/pid") == "$(state_field "$ID" pid)" ]]
    [[ -d /proc/$(cat "$TEST_DIR/pid") ]]
}

@test "create --pid-file relative [resolved against the caller's cwd]" {
    cd "$TEST_DIR"
    runtime create --bundle "$BUNDLE" --pid-file rel.pid "$ID"
    assert_success
    [[ $(cat "$TEST_DIR/rel.pid") == "$(state_field "$ID" pid)" ]]
}

@test "create --no-pivot [container runs]" {
    set_args sh -c 'echo no-pivot-ok; ls /bin/busybox'
    runtime create --bundle "$BUNDLE" --no-pivot "$ID"
    assert_success
    runtime start "$ID"
    assert_success
    wait_for_status "$ID" stopped
    run container_output "$ID"
    assert_line no-pivot-ok
    assert_line /bin/busybox
}

@test "create --no-new-keyring [container runs]" {
    set_args sh -c 'echo keyring-ok'
    runtime create --bundle "$BUNDLE" --no-new-keyring "$ID"
    assert_success
    runtime start "$ID"
    assert_success
    wait_for_status "$ID" stopped
    run container_output "$ID"
    assert_line keyring-ok
}

@test "create then start [process output reaches the caller's stdout]" {
    set_args sh -c 'echo hello-from-$(hostname)'
    update_config '.hostname = "created-box"'
    runtime create --bundle "$BUNDLE" "$ID"
    assert_success
    runtime start "$ID"
    assert_success
    wait_for_status "$ID" stopped
    run container_output "$ID"
    assert_line hello-from-created-box
}
