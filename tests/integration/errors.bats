#!/usr/bin/env bats
# Every error case fails cleanly: non-zero exit, a message, and a failed
# create leaves no state dir, mount, cgroup or process behind.

load helpers

# create_must_fail ID: create fails and nothing of it remains.
create_must_fail() {
    local id=$1
    runtime create --bundle "$BUNDLE" "$id"
    assert_failure
    [[ -n $output ]] || { echo "no error message" >&2; return 1; }
    assert_no_leftovers "$ROOT" "$id"
}

@test "verbs on an unknown id [fail with 'does not exist']" {
    local verb
    for verb in start state delete kill; do
        runtime "$verb" no-such-container
        assert_failure
        # podman and the containerd shim match on these words.
        assert_output --regexp 'does not exist|not found|no such'
    done
}

@test "create [duplicate id fails, first container unaffected]" {
    runtime create --bundle "$BUNDLE" "$ID"
    assert_success
    pid=$(state_field "$ID" pid)
    runtime create --bundle "$BUNDLE" "$ID"
    assert_failure
    [[ $(state_field "$ID" status) == created ]]
    [[ $(state_field "$ID" pid) == "$pid" ]]
    [[ -d /proc/$pid ]]
}

@test "create [config.json is not JSON: fails, nothing left]" {
    echo '{"ociVersion": "1.0.2", "process": ' >"$BUNDLE/config.json"
    create_must_fail "$ID"
}

@test "create [no config.json in the bundle: fails, nothing left]" {
    rm "$BUNDLE/config.json"
    create_must_fail "$ID"
    assert_output --partial config.json
}

@test "create [bundle directory does not exist: fails, nothing left]" {
    runtime create --bundle "$TEST_DIR/no-such-bundle" "$ID"
    assert_failure
    assert_no_leftovers "$ROOT" "$ID"
}

@test "create [missing rootfs: fails, nothing left]" {
    update_config '.root.path = "no-such-rootfs"'
    create_must_fail "$ID"
    assert_output --partial no-such-rootfs
}

@test "create [empty process.args: fails, nothing left]" {
    update_config '.process.args = []'
    create_must_fail "$ID"
}

@test "create [unknown namespace type: fails, nothing left]" {
    update_config '.linux.namespaces += [{"type": "nosuchns"}]'
    create_must_fail "$ID"
}

@test "create [missing executable: fails, nothing left]" {
    set_args /no/such/binary
    runtime create --bundle "$BUNDLE" "$ID"
    if [[ $status -eq 0 ]]; then
        # A runtime may defer the lookup to start; then start must fail.
        runtime start "$ID"
        assert_failure
    fi
    runtime delete --force "$ID"
    assert_no_leftovers "$ROOT" "$ID"
}

@test "create [mount source missing: fails after namespaces exist, nothing left]" {
    # Fails late (inside the init, after cgroups and namespaces were made),
    # which is where cleanup is usually forgotten.
    update_config '.mounts += [{"destination": "/mnt", "type": "bind", "source": "/no/such/source", "options": ["bind"]}]'
    create_must_fail "$ID"
}

@test "create [ids with / or .. are refused]" {
    local bad
    for bad in a/b ../escape .. . /abs; do
        runtime create --bundle "$BUNDLE" "$bad"
        assert_failure
    done
    # Nothing was written outside the root, and the root is empty.
    [[ ! -e $TEST_DIR/escape ]]
    assert_no_leftovers "$ROOT"
}

@test "create [empty id is refused]" {
    runtime create --bundle "$BUNDLE" ""
    assert_failure
}

@test "create --log-format json [error is one JSON object in --log]" {
    update_config '.root.path = "no-such-rootfs"'
    runtime --log "$TEST_DIR/log.json" --log-format json create --bundle "$BUNDLE" "$ID"
    assert_failure
    # podman decodes the whole file as one object and shows .msg.
    [[ $(jq -s 'length' "$TEST_DIR/log.json") == 1 ]]
    [[ $(jq -r '.level' "$TEST_DIR/log.json") == error ]]
    [[ $(jq -r '.msg' "$TEST_DIR/log.json") == *no-such-rootfs* ]]
    assert_no_leftovers "$ROOT" "$ID"
}

@test "create --log [file created even on success]" {
    runtime --log "$TEST_DIR/ok.log" --log-format json create --bundle "$BUNDLE" "$ID"
    assert_success
    [[ -f $TEST_DIR/ok.log ]]
}

@test "unknown verb and unknown flag [usage error, non-zero]" {
    runtime no-such-verb
    assert_failure
    runtime create --no-such-flag --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_no_leftovers "$ROOT" "$ID"
}
