#!/usr/bin/env bats
# The administrator's file (tether --admin-config, default
# /etc/tether/admin.json): a ceiling annotations may only narrow, the keys a
# workload may set, the directories its host paths may point into, and the
# audit trail that outlives the container.

load sandbox_helpers

setup() {
    sandbox_setup
    LOGS=$TEST_DIR/logs
    POLICIES=$TEST_DIR/policies
    mkdir -p "$POLICIES"
    write_admin '{}'
    host_network
    set_args true
}

# write_admin EXTRA_JSON: the administrator's file with the test's log and
# policy directories, merged with EXTRA_JSON; a runtime wrapper passes it.
write_admin() {
    jq -n --arg logs "$LOGS" --arg policies "$POLICIES" --argjson extra "$1" \
        '{decisionLogDirectory: $logs, logDirectories: [$logs], policyDirectories: [$policies]} + $extra' \
        >"$TEST_DIR/admin.json"
    ADMIN_RUNTIME=$TEST_DIR/tether-admin
    printf '#!/bin/sh\nexec %s --admin-config %s "$@"\n' "$RUNTIME" "$TEST_DIR/admin.json" >"$ADMIN_RUNTIME"
    chmod +x "$ADMIN_RUNTIME"
}

admin_runtime() {
    runtime_bin "$ADMIN_RUNTIME" "$ROOT" "$@"
}

CEILING='{"ceiling": {"network": {"allowLocalOutboundPorts": "5432,8000-8010"},
                      "filesystem": {"allowWrite": ["/tmp"]}}}'

@test "admin: an annotation beyond the ceiling fails create naming the annotation, the value and the ceiling" {
    write_admin "$CEILING"
    annotate run.tether.network.allowLocalOutboundPorts 1-65535
    admin_runtime create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial "run.tether.network.allowLocalOutboundPorts: 1-65535 is beyond the ceiling 5432,8000-8010 of $TEST_DIR/admin.json"
    assert_no_leftovers "$ROOT" "$ID"
    annotate run.tether.network.allowLocalOutboundPorts 8001
    annotate run.tether.filesystem.allowWrite /
    admin_runtime create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial "run.tether.filesystem.allowWrite: / is beyond the ceiling /tmp"
    # Control: the same annotations without the administrator's file are accepted.
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
}

@test "admin: annotations within the ceiling narrow it and the sandbox holds" {
    write_admin "$CEILING"
    listed=$(free_port)
    other=$(free_port)
    start_tcp_server listed 127.0.0.1 "$listed"
    start_tcp_server other 127.0.0.1 "$other"
    write_admin "{\"ceiling\": {\"network\": {\"allowLocalOutboundPorts\": \"$listed,$other\"}}}"
    annotate run.tether.network.allowLocalOutboundPorts "$listed"
    probes "listed probe connect 127.0.0.1 $listed" "other probe connect 127.0.0.1 $other"
    admin_runtime run --bundle "$BUNDLE" "$ID"
    assert_line "listed OK"
    assert_line "other ECONNREFUSED"
}

@test "admin: a key the administrator does not give to workloads is refused" {
    write_admin '{"workloadKeys": ["network.allowLocalOutboundPorts"]}'
    annotate run.tether.network.allowLocalOutboundPorts 5432
    annotate run.tether.sandbox.mode audit
    admin_runtime create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial "run.tether.sandbox.mode: not allowed for workloads by $TEST_DIR/admin.json (workloadKeys)"
    assert_no_leftovers "$ROOT" "$ID"
}

@test "admin: policy files only from the policy directories, and never quoted" {
    echo "root:\$6\$not-a-real-hash:19000:0:99999:7:::" >"$TEST_DIR/shadow-like"
    annotate run.tether.policy "$TEST_DIR/shadow-like"
    admin_runtime create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial "run.tether.policy: $TEST_DIR/shadow-like is outside the policy directories"
    cp "$TEST_DIR/shadow-like" "$POLICIES/p.json"
    annotate run.tether.policy "$POLICIES/p.json"
    admin_runtime create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial "not valid JSON"
    refute_output --partial "not-a-real-hash"
    refute_output --partial "root:"
    assert_no_leftovers "$ROOT" "$ID"
}

@test "admin: run.tether.log outside the log directories is refused; a symlink in them is not followed" {
    annotate run.tether.network.allowLocalOutboundPorts 5432
    annotate run.tether.log "$TEST_DIR/elsewhere.jsonl"
    admin_runtime create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial "run.tether.log: $TEST_DIR/elsewhere.jsonl is outside the log directories ($LOGS)"
    assert_no_leftovers "$ROOT" "$ID"
    # Without an administrator's file only /var/log/tether is a log directory.
    runtime create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial "is outside the log directories (/var/log/tether)"

    mkdir -p "$LOGS"
    echo canary >"$TEST_DIR/canary"
    ln -s "$TEST_DIR/canary" "$LOGS/planted.jsonl"
    annotate run.tether.log "$LOGS/planted.jsonl"
    admin_runtime create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial "symlinks are not followed"
    [[ $(cat "$TEST_DIR/canary") == canary ]] || fail "the canary was written through the symlink"
    assert_no_leftovers "$ROOT" "$ID"
}

@test "admin: the audit trail outlives delete, carries the pod, is 0600, and run.tether.log is honoured" {
    denied=$(free_port)
    annotate run.tether.network.allowLocalOutboundPorts 1
    annotate io.kubernetes.pod.name web-1
    annotate io.kubernetes.pod.namespace team-a
    probes "denied probe connect 127.0.0.1 $denied"
    admin_runtime run --bundle "$BUNDLE" "$ID"
    assert_line "denied ECONNREFUSED"
    [[ ! -e $ROOT/$ID ]] || fail "the state dir is still there"
    run jq -r 'select(.verdict == "deny") | "\(.id) \(.pod) \(.namespace) \(.port)"' "$LOGS/$ID.jsonl"
    assert_output "$ID web-1 team-a $denied"
    [[ $(stat -c %a "$LOGS/$ID.jsonl") == 600 ]]

    annotate run.tether.log "$LOGS/chosen.jsonl"
    admin_runtime run --bundle "$BUNDLE" "$ID-2"
    run jq -r 'select(.verdict == "deny") | .port' "$LOGS/chosen.jsonl"
    assert_output "$denied"
}

@test "admin: 10 sandboxes at once each write their own complete trail" {
    denied=$(free_port)
    annotate run.tether.network.allowLocalOutboundPorts 1
    update_config '.process.args = ["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do probe connect 127.0.0.1 '"$denied"' >/dev/null; done; true"]'
    local pids=() i
    for i in $(seq 1 10); do
        "$ADMIN_RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$ID-$i" </dev/null >/dev/null 2>&1 3>&- &
        pids+=($!)
        echo "$ID-$i" >>"$TEST_DIR/ids"
    done
    for i in "${pids[@]}"; do wait "$i" || fail "a container failed"; done
    for i in $(seq 1 10); do
        [[ $(jq -r "select(.verdict == \"deny\" and .id == \"$ID-$i\") | .port" "$LOGS/$ID-$i.jsonl" | wc -l) == 10 ]] ||
            fail "$ID-$i: $(wc -l <"$LOGS/$ID-$i.jsonl") lines"
        [[ -z $(jq -r "select(.id != \"$ID-$i\") | .id" "$LOGS/$ID-$i.jsonl") ]] || fail "$ID-$i holds another's lines"
    done
}

@test "admin: rotation by size keeps every line" {
    write_admin '{"decisionLogRotateBytes": 4096, "decisionLogRotateKeep": 50}'
    denied=$(free_port)
    annotate run.tether.network.allowLocalOutboundPorts 1
    update_config '.process.args = ["sh", "-c", "i=0; while [ $i -lt 60 ]; do probe connect 127.0.0.1 '"$denied"' >/dev/null; i=$((i+1)); done"]'
    admin_runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    ls "$LOGS/$ID.jsonl.1" >/dev/null || fail "no rotation happened: $(ls -la "$LOGS")"
    [[ $(cat "$LOGS/$ID".jsonl* | jq -r 'select(.verdict == "deny") | .port' | wc -l) == 60 ]] ||
        fail "lines lost: $(cat "$LOGS/$ID".jsonl* | wc -l)"
    for f in "$LOGS/$ID".jsonl*; do
        [[ $(stat -c %s "$f") -le 4096 ]] || fail "$f is $(stat -c %s "$f") bytes"
        jq -e . "$f" >/dev/null || fail "$f has a broken line"
    done
}

@test "admin: features lists the annotations that can loosen a sandbox" {
    runtime features
    assert_success
    run jq -r '.potentiallyUnsafeConfigAnnotations[]' <<<"$output"
    assert_line run.tether.network.allowLocalOutboundPorts
    assert_line run.tether.policy
    assert_line run.tether.log
    refute_line run.tether.network.deniedDomains
}
