#!/usr/bin/env bats
# The sandbox policy as `create` sees it: annotations that are refused, a
# --default-policy file, what a container without annotations keeps, and
# the network daemon's life (docs/annotations.md).

load sandbox_helpers

# status_probes: the container prints its NoNewPrivs and Seccomp lines
# (from /proc/self/status) and exits.
status_probes() {
    set_args sh -c 'grep -E "^(NoNewPrivs|Seccomp|Seccomp_filters):" /proc/self/status'
}

@test "sandbox: an unknown run.tether key fails create, names the annotation and leaves nothing" {
    annotate run.tether.bogus 1
    runtime create --bundle "$BUNDLE" "$ID"
    assert_refused_leaving_nothing "run.tether.bogus" "unknown annotation"
}

@test "sandbox: a bad port fails create, names the annotation and the item, and leaves nothing" {
    annotate run.tether.network.allowLocalOutboundPorts "5432,70000"
    runtime create --bundle "$BUNDLE" "$ID"
    assert_refused_leaving_nothing "run.tether.network.allowLocalOutboundPorts" '"70000"'
}

@test "sandbox: an annotation outside run.tether. is not a policy (no error, no sandbox)" {
    annotate org.example.note "run.tether.bogus"
    update_config '.process.noNewPrivileges = false'
    status_probes
    run_container
    assert_success
    assert_line --regexp '^NoNewPrivs:[[:space:]]+0$'
    assert_line --regexp '^Seccomp_filters:[[:space:]]+0$'
}

@test "sandbox: without annotations nothing changes (no tether-netd, NoNewPrivs as configured, no seccomp filter)" {
    update_config '.process.noNewPrivileges = false'
    status_probes
    run_container
    assert_success
    assert_line --regexp '^NoNewPrivs:[[:space:]]+0$'
    assert_line --regexp '^Seccomp:[[:space:]]+0$'
    assert_line --regexp '^Seccomp_filters:[[:space:]]+0$'

    update_config '.process.noNewPrivileges = true | .process.args = ["sleep", "3600"]'
    create_running
    [[ -z $(netd_pids_of_test) ]] || fail "tether-netd runs for a container without annotations"
    [[ ! -e $ROOT/$ID/netd.sock ]]
    pid=$(state_field "$ID" pid)
    run grep -E '^(NoNewPrivs|Seccomp_filters):' "/proc/$pid/status"
    assert_line --regexp '^NoNewPrivs:[[:space:]]+1$'
    assert_line --regexp '^Seccomp_filters:[[:space:]]+0$'
}

@test "sandbox: a filesystem-only policy forces no_new_privs and the closures, without tether-netd" {
    update_config '.process.noNewPrivileges = false'
    annotate run.tether.filesystem.denyWrite /etc
    update_config '.process.args = ["sleep", "3600"]'
    create_running
    [[ -z $(netd_pids_of_test) ]] || fail "tether-netd runs without a run.tether.network.* key"
    pid=$(state_field "$ID" pid)
    run grep -E '^(NoNewPrivs|Seccomp|Seccomp_filters):' "/proc/$pid/status"
    assert_line --regexp '^NoNewPrivs:[[:space:]]+1$'
    assert_line --regexp '^Seccomp:[[:space:]]+2$'
    refute_line --regexp '^Seccomp_filters:[[:space:]]+0$'
}

@test "sandbox: --default-policy applies to a container without annotations; an annotation overrides its key" {
    mkdir -p "$BUNDLE/rootfs/secret" "$BUNDLE/rootfs/work"
    echo TOPSECRET >"$BUNDLE/rootfs/secret/key"
    cat >"$TEST_DIR/policy.json" <<'EOF'
{ "filesystem": { "denyRead": ["/secret"], "allowWrite": ["/work"] } }
EOF
    probes "secret probe read /secret/key" "work probe write /work/out" "etc probe write /etc/out"
    runtime --default-policy="$TEST_DIR/policy.json" run --bundle "$BUNDLE" "$ID"
    refute_output --partial TOPSECRET
    assert_line "secret ENOENT"
    assert_line "work OK"
    assert_line "etc EACCES"

    # The annotation replaces the default's allowWrite list: /etc now, not /work.
    annotate run.tether.filesystem.allowWrite /etc
    id2=$(new_id)
    runtime --default-policy="$TEST_DIR/policy.json" run --bundle "$BUNDLE" "$id2"
    assert_line "secret ENOENT"
    assert_line "work EACCES"
    assert_line "etc OK"
}

@test "sandbox: a bad --default-policy file fails create naming the file's key" {
    echo '{ "network": { "bogus": 1 } }' >"$TEST_DIR/policy.json"
    runtime --default-policy="$TEST_DIR/policy.json" create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial "network.bogus"
    [[ -z $(ls -A "$ROOT") ]] || fail "state left in $ROOT: $(ls -A "$ROOT")"
}

@test "sandbox: a config seccomp profile with SCMP_ACT_NOTIFY plus a network policy is refused" {
    update_config '.linux.seccomp = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": "/run/nonexistent-listener.sock",
        "syscalls": [ { "names": ["mkdirat"], "action": "SCMP_ACT_NOTIFY" } ] }'
    annotate run.tether.network.allowLocalOutboundPorts 5432
    runtime create --bundle "$BUNDLE" "$ID"
    assert_refused_leaving_nothing "SCMP_ACT_NOTIFY" "run.tether.network"
}

@test "sandbox: tether-netd runs for a network policy and is gone after delete" {
    annotate run.tether.network.allowLocalOutboundPorts 5432
    update_config '.process.args = ["sleep", "3600"]'
    runtime create --bundle "$BUNDLE" "$ID"
    assert_success
    netd=$(netd_pids_of_test)
    [[ -n $netd ]] || fail "no tether-netd for a container with a network policy"
    [[ $(state_field "$ID" status) == created ]]
    runtime start "$ID"
    assert_success
    runtime delete --force "$ID"
    assert_success
    for p in $netd; do wait_pid_gone "$p" 10 || fail "tether-netd $p outlived delete"; done
}

@test "sandbox: tether-netd exits when the init is killed with SIGKILL" {
    annotate run.tether.network.allowLocalOutboundPorts 5432
    update_config '.process.args = ["sleep", "3600"]'
    create_running
    netd=$(netd_pids_of_test)
    [[ -n $netd ]] || fail "no tether-netd for a container with a network policy"
    pid=$(state_field "$ID" pid)
    kill -9 "$pid"
    for p in $netd; do wait_pid_gone "$p" 10 || fail "tether-netd $p outlived its init"; done
    wait_for_status "$ID" stopped
}
