#!/usr/bin/env bats
# runtime-spec lifecycle, step 2: "Any updates to config.json after this step
# MUST NOT affect the container." create keeps the config it parsed in its
# state dir; start, the poststart and poststop hooks, exec and delete use
# that copy whatever happens to the bundle's config.json afterwards.

load helpers

# A host hook that appends its name to $TEST_DIR/ran.
setup() {
    require_runtime
    setup_bundle
    printf '#!/bin/sh\necho "$1" >>"$2/ran"\n' >"$TEST_DIR/mark.sh"
    chmod +x "$TEST_DIR/mark.sh"
}

teardown() {
    teardown_bundle
}

# hook NAME: a hook entry that records NAME in $TEST_DIR/ran.
hook() {
    jq -cn --arg p "$TEST_DIR/mark.sh" --arg n "$1" --arg d "$TEST_DIR" '{path: $p, args: ["mark.sh", $n, $d]}'
}

ran() {
    cat "$TEST_DIR/ran" 2>/dev/null | tr '\n' ' '
}

# edited_config: the bundle's config.json rewritten after create, with other
# hooks, other args and another environment.
replace_config_after_create() {
    update_config ".hooks = {poststart: [$(hook edited-poststart)], poststop: [$(hook edited-poststop)]}
                   | .process.args = [\"sh\", \"-c\", \"echo edited-process; sleep 3600\"]
                   | .process.env += [\"EDITED=yes\"]"
}

@test "config.json replaced after create [start, poststart and poststop are create's]" {
    set_args sh -c 'echo original-process; trap "exit 143" TERM; sleep 3600 & wait'
    update_config ".hooks = {poststart: [$(hook poststart)], poststop: [$(hook poststop)]}"
    runtime create --bundle "$BUNDLE" "$ID"
    assert_success
    replace_config_after_create
    runtime start "$ID"
    assert_success
    wait_for_status "$ID" running
    run container_output "$ID"
    assert_line original-process
    refute_line edited-process
    [[ $(ran) == "poststart " ]]
    runtime delete --force "$ID"
    assert_success
    [[ $(ran) == "poststart poststop " ]]
    assert_no_leftovers "$ROOT" "$ID"
}

@test "config.json corrupted after create [start and delete still work, hooks are create's]" {
    update_config ".hooks = {poststart: [$(hook poststart)], poststop: [$(hook poststop)]}"
    runtime create --bundle "$BUNDLE" "$ID"
    assert_success
    echo '{"ociVersion": "1.0.2", "process": ' >"$BUNDLE/config.json"
    runtime start "$ID"
    assert_success
    wait_for_status "$ID" running
    [[ $(ran) == "poststart " ]]
    runtime kill "$ID" KILL
    assert_success
    wait_for_status "$ID" stopped
    runtime delete "$ID"
    assert_success
    [[ $(ran) == "poststart poststop " ]]
    assert_no_leftovers "$ROOT" "$ID"
}

@test "config.json removed after create [delete of a never-started container runs create's poststop]" {
    update_config ".hooks = {poststop: [$(hook poststop)]}"
    runtime create --bundle "$BUNDLE" "$ID"
    assert_success
    rm "$BUNDLE/config.json"
    runtime delete "$ID"
    assert_success
    [[ $(ran) == "poststop " ]]
    assert_no_leftovers "$ROOT" "$ID"
}

@test "config.json edited after create [exec gets create's process defaults]" {
    # runc builds an exec's process from the bundle's config.json as it is
    # at exec time; tether takes it, with the namespaces and the sandbox
    # policy, from the config the container was created with.
    [[ $RUNTIME_NAME == runc ]] && skip "runc exec reads the bundle's current config.json"
    create_running
    replace_config_after_create
    runtime exec "$ID" sh -c 'echo "EDITED=${EDITED:-unset}"'
    assert_success
    assert_output "EDITED=unset"
}
