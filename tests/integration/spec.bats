#!/usr/bin/env bats
# spec: writes a default config.json that the runtime itself can run.

load helpers

@test "spec [writes config.json in the current directory]" {
    mkdir "$TEST_DIR/new"
    cd "$TEST_DIR/new"
    runtime spec
    assert_success
    jq -e . config.json >/dev/null
    [[ $(jq -r .ociVersion config.json) =~ ^1\. ]]
    [[ $(jq -r .root.path config.json) == rootfs ]]
    [[ $(jq -r '.process.args | length' config.json) -ge 1 ]]
    [[ $(jq -r '.linux.namespaces | map(.type) | index("mount") != null' config.json) == true ]]
}

@test "spec --bundle DIR [writes DIR/config.json]" {
    mkdir "$TEST_DIR/other"
    runtime spec --bundle "$TEST_DIR/other"
    assert_success
    jq -e . "$TEST_DIR/other/config.json" >/dev/null
}

@test "spec [refuses to overwrite an existing config.json]" {
    cd "$BUNDLE"
    cp config.json before.json
    runtime spec
    assert_failure
    cmp config.json before.json
}

@test "spec [the default config runs busybox]" {
    rm "$BUNDLE/config.json"
    cd "$BUNDLE"
    runtime spec
    assert_success
    update_config '.process.terminal = false | .process.args = ["sh", "-c", "echo spec-default-runs"]'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output spec-default-runs
}

@test "spec --rootless [user namespace with id mappings, no cgroup resources]" {
    mkdir "$TEST_DIR/rootless"
    cd "$TEST_DIR/rootless"
    runtime spec --rootless
    assert_success
    [[ $(jq -r '.linux.namespaces | map(.type) | index("user") != null' config.json) == true ]]
    [[ $(jq -r '.linux.uidMappings | length' config.json) -ge 1 ]]
    [[ $(jq -r '.linux.gidMappings | length' config.json) -ge 1 ]]
    [[ $(jq -r '.linux.resources // {} | has("devices")' config.json) == false ]]
}
