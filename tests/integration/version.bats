#!/usr/bin/env bats
# --version: free text that podman shows verbatim in `podman info`.

load helpers

@test "--version [name, version and spec version]" {
    runtime --version
    assert_success
    assert_line --index 0 --regexp "^$RUNTIME_NAME version [0-9]+\.[0-9]+\.[0-9]+"
    assert_line --regexp '^spec: 1\.[0-9]+\.[0-9]+'
}

@test "-v [same as --version]" {
    runtime --version
    expected=$output
    runtime -v
    assert_success
    assert_output "$expected"
}

# main.cpp registers only the verb argv names (CLI11's set-up of all fifteen
# was most of a short call's instructions): help must still list them all,
# and global options, their values and aliases must still lead to the verb.
@test "--help [lists every verb]" {
    runtime --help
    assert_success
    local verb
    for verb in create start state kill delete run list spec features exec ps pause resume update events; do
        assert_line --regexp "^  $verb(,| |$)"
    done
}

@test "global options before the verb [values, --opt=value and the ls alias reach the verb]" {
    mkdir -p "$TEST_DIR/create"
    # A --root named like a verb is the option's value, not the verb.
    run bash -c 'cd "$1" && timeout 10 "$2" --root create --log-format json --debug list --format json' _ "$TEST_DIR" "$RUNTIME"
    assert_success
    assert_output "[]"
    run timeout 10 "$RUNTIME" --root="$TEST_DIR/create" ls -q
    assert_success
    assert_output ""
    run timeout 10 "$RUNTIME" --root "$TEST_DIR/create" --no-such-global list
    assert_failure
}
