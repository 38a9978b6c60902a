#!/usr/bin/env bats
# state: the JSON podman reads (it acts on .status).

load helpers

@test "state [created: ociVersion, id, status, pid, bundle, annotations]" {
    update_config '.annotations = {"org.example.key": "value", "io.podman.annotations.init": "FALSE"}'
    runtime create --bundle "$BUNDLE" "$ID"
    assert_success
    runtime state "$ID"
    assert_success
    echo "$output" | jq -e . >/dev/null
    [[ $(jq -r .ociVersion <<<"$output") =~ ^1\.[0-9]+\.[0-9]+ ]]
    [[ $(jq -r .id <<<"$output") == "$ID" ]]
    [[ $(jq -r .status <<<"$output") == created ]]
    [[ $(jq -r .pid <<<"$output") -gt 0 ]]
    [[ $(jq -r '.pid | type' <<<"$output") == number ]]
    [[ $(jq -r .bundle <<<"$output") == "$BUNDLE" ]]
    [[ $(jq -r '.annotations["org.example.key"]' <<<"$output") == value ]]
    [[ $(jq -r '.annotations["io.podman.annotations.init"]' <<<"$output") == FALSE ]]
}

@test "state [pid is the init's host pid]" {
    runtime create --bundle "$BUNDLE" --pid-file "$TEST_DIR/pid" "$ID"
    assert_success
    runtime state "$ID"
    [[ $(jq -r .pid <<<"$output") == "$(cat "$TEST_DIR/pid")" ]]
}

@test "state [running]" {
    create_running
    runtime state "$ID"
    assert_success
    [[ $(jq -r .status <<<"$output") == running ]]
    [[ -d /proc/$(jq -r .pid <<<"$output") ]]
}

@test "state [stopped after the process exits]" {
    set_args true
    runtime create --bundle "$BUNDLE" "$ID"
    runtime start "$ID"
    assert_success
    wait_for_status "$ID" stopped
    runtime state "$ID"
    assert_success
    [[ $(jq -r .status <<<"$output") == stopped ]]
}

@test "state [stdout is one JSON document]" {
    runtime create --bundle "$BUNDLE" "$ID"
    run --separate-stderr timeout 30 "$RUNTIME" --root "$ROOT" state "$ID"
    assert_success
    [[ $(jq -s length <<<"$output") == 1 ]]
}

@test "state [works with stderr closed, as podman calls it]" {
    runtime create --bundle "$BUNDLE" "$ID"
    run bash -c '"$1" --root "$2" state "$3" 2>&-' _ "$RUNTIME" "$ROOT" "$ID"
    assert_success
    [[ $(jq -r .status <<<"$output") == created ]]
}

@test "state [unknown id fails, prints no JSON on stdout]" {
    run --separate-stderr timeout 30 "$RUNTIME" --root "$ROOT" state no-such-container
    assert_failure
    assert_output ""
    [[ -n $stderr ]]
}
