#!/usr/bin/env bats
# containerd 1.6 (runc v2 shim) running containers through tether, driven by
# ctr with --runc-binary. The test starts its own containerd (private root,
# state, socket; no CRI plugin) and stops it afterwards; the shim's runtime
# root (--runc-root) is private too.

load helpers

NS=tether-e2e

setup_file() {
    require_client containerd ctr containerd-shim-runc-v2
    require_runtime
    ensure_image
    new_private_containerd_dir ctrd
    export RUNC_ROOT=$CTRD_DIR/runc
    cgroup_snapshot "$NS" "$BATS_FILE_TMPDIR/cgroups-before"
    cat >"$CTRD_DIR/config.toml" <<EOF
version = 2
root = "$CTRD_DIR/root"
state = "$CTRD_DIR/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CTRD_SOCK"
[plugins."io.containerd.internal.v1.opt"]
  path = "$CTRD_DIR/opt"
EOF
    start_private_containerd ctr --address "$CTRD_SOCK" version
    bounded ctr --address "$CTRD_SOCK" -n "$NS" image import "$IMAGE_CACHE/oci.tar" >/dev/null
}

teardown_file() {
    find_private_containerd || return 0
    remove_ctr_containers
    stop_private_containerd
    remove_new_cgroups "$NS" "$BATS_FILE_TMPDIR/cgroups-before"
}

teardown() {
    remove_ctr_containers
    stop_loopback_listeners
}

c() {
    bounded ctr --address "$CTRD_SOCK" -n "$NS" "$@"
}

# Kill and remove every task and container of our namespace.
remove_ctr_containers() {
    local id
    for id in $(c containers list -q 2>/dev/null); do
        c task kill -s SIGKILL "$id" >/dev/null 2>&1 || true
        retry_until 10 task_gone_or_stopped "$id" || true
        c task delete -f "$id" >/dev/null 2>&1 || true
        c containers delete "$id" >/dev/null 2>&1 || true
    done
}

# task_status ID: RUNNING, PAUSED, STOPPED... (empty when there is no task).
task_status() {
    c task list 2>/dev/null | awk -v id="$1" '$1 == id {print $3}'
}

task_gone_or_stopped() {
    local s
    s=$(task_status "$1")
    [[ -z $s || $s == STOPPED ]]
}

ctr_run() {
    c run --runc-binary "$RUNTIME" --runc-root "$RUNC_ROOT" "$@"
}

# start_service [FLAGS...]: a detached task running SERVICE_CMD; sets CID.
start_service() {
    CID=e2e-$BATS_TEST_NUMBER-$RANDOM
    run ctr_run -d "$@" "$IMAGE_NAME" "$CID" "${SERVICE_CMD[@]}"
    assert_success
    retry_until 20 eval '[[ $(task_status $CID) == RUNNING ]]' || fail "task $CID is not running"
}

@test "ctr run: stdout and the exit code reach the user" {
    run ctr_run --rm "$IMAGE_NAME" "e2e-$RANDOM" echo hello from tether
    assert_success
    assert_output "hello from tether"

    run ctr_run --rm "$IMAGE_NAME" "e2e-$RANDOM" sh -c 'echo out; exit 7'
    assert_equal "$status" 7
    assert_output out
}

@test "ctr run: a missing command fails create with the runtime's message" {
    run ctr_run --rm "$IMAGE_NAME" "e2e-$RANDOM" no-such-command
    assert_failure
    assert_output --partial "OCI runtime create failed"
    assert_output --partial "executable file not found in \$PATH"
}

@test "ctr run --annotation reaches the runtime" {
    start_service --annotation tether.e2e/key=from-ctr
    run tether_state "$RUNC_ROOT/$NS" "$CID"
    assert_success
    assert_equal "$(jq -r .status <<<"$output")" running
    assert_equal "$(jq -r '.annotations["tether.e2e/key"]' <<<"$output")" from-ctr
}

@test "ctr task exec runs a process in the container" {
    start_service
    run c task exec --exec-id probe "$CID" sh -c 'echo exec says hi; cat /proc/1/cmdline | tr "\0" " "; exit 3'
    assert_equal "$status" 3
    assert_line "exec says hi"
    assert_line --partial "while :; do sleep 1; done"
}

@test "ctr task kill delivers the signal; task delete reports the exit code" {
    CID=e2e-$BATS_TEST_NUMBER-$RANDOM
    run ctr_run -d "$IMAGE_NAME" "$CID" sh -c 'trap "exit 42" USR1; while :; do sleep 1; done'
    assert_success
    retry_until 20 eval '[[ $(task_status $CID) == RUNNING ]]'
    run c task kill -s SIGUSR1 "$CID"
    assert_success
    retry_until 20 eval '[[ $(task_status $CID) == STOPPED ]]' || fail "task did not stop: $(task_status "$CID")"
    run c task delete "$CID"
    assert_success
    assert_output --partial "exit code 42"
    # The runtime's delete removed its state.
    run tether_state "$RUNC_ROOT/$NS" "$CID"
    assert_failure
}

@test "ctr task pause and resume freeze and thaw the container" {
    start_service
    run c task pause "$CID"
    assert_success
    assert_equal "$(task_status "$CID")" PAUSED
    assert_equal "$(tether_state "$RUNC_ROOT/$NS" "$CID" | jq -r .status)" paused
    run c task resume "$CID"
    assert_success
    assert_equal "$(task_status "$CID")" RUNNING
    run c task exec --exec-id after-resume "$CID" echo resumed
    assert_output resumed
}

@test "ctr task ps lists the container's processes" {
    start_service
    local init_pid
    init_pid=$(c task list | awk -v id="$CID" '$1 == id {print $2}')
    run c task ps "$CID"
    assert_success
    assert_line --regexp "^$init_pid[[:space:]]"
    # The init's `sleep 1` child shows up too: at least two processes.
    [[ ${#lines[@]} -ge 3 ]] || fail "expected the init and its child: $output"
}

@test "containerd: contrib's config snippet registers tether with the runc v2 shim" {
    local cfg=$BATS_TEST_TMPDIR/config.toml
    cp "$REPO_ROOT/contrib/containerd/config.toml" "$cfg"
    run containerd --config "$cfg" config dump
    assert_success
    assert_output --partial 'runtimes.tether]'
    assert_output --partial 'runtime_type = "io.containerd.runc.v2"'
    assert_output --partial 'BinaryName = "/usr/local/bin/tether"'
    assert_output --regexp 'pod_annotations = \["run\.tether\.\*"\]'
    assert_output --regexp 'container_annotations = \["run\.tether\.\*"\]'
}

@test "ctr run: a sandbox on the host network reaches its listed loopback port only, enforced in the kernel" {
    local listed unlisted plain
    listed=$(start_loopback_listener)
    unlisted=$(start_loopback_listener)
    run ctr_run --rm --net-host "$IMAGE_NAME" "e2e-$RANDOM" sh -c "$(sandbox_probe_cmd "$listed" "$unlisted")"
    assert_probe_reached_both
    plain=$(grep '^Seccomp_filters:' <<<"$output" | cut -d: -f2)

    run ctr_run --rm --net-host --annotation run.tether.network.allowLocalOutboundPorts="$listed" \
        "$IMAGE_NAME" "e2e-$RANDOM" sh -c "$(sandbox_probe_cmd "$listed" "$unlisted")"
    stop_loopback_listeners
    assert_probe_reached_listed_only
    # The closures only: no notify filter, the kernel decides.
    [[ $(($(grep '^Seccomp_filters:' <<<"$output" | cut -d: -f2))) == $((plain + 1)) ]] ||
        fail "expected $((plain + 1)) seccomp filters: $output"
}

# Kubernetes-style: the workload's annotation is beyond the administrator's
# ceiling. containerd runs the runtime entry (here a wrapper that passes
# --admin-config, as an administrator's /etc/tether/admin.json would apply),
# and the refusal reaches the user through containerd.
@test "ctr run: an annotation beyond the administrator's ceiling is refused, naming the ceiling" {
    local admin=$BATS_TEST_TMPDIR/admin.json wrapper=$BATS_TEST_TMPDIR/tether-admin
    jq -n --arg logs "$BATS_TEST_TMPDIR/logs" \
        '{ceiling: {network: {allowLocalOutboundPorts: "5432"}}, decisionLogDirectory: $logs, logDirectories: [$logs]}' >"$admin"
    printf '#!/bin/sh\nexec %s --admin-config %s "$@"\n' "$RUNTIME" "$admin" >"$wrapper"
    chmod +x "$wrapper"
    run c run --runc-binary "$wrapper" --runc-root "$RUNC_ROOT" --rm --net-host \
        --annotation run.tether.network.allowLocalOutboundPorts=1-65535 "$IMAGE_NAME" "e2e-$RANDOM" true
    assert_failure
    assert_output --partial "run.tether.network.allowLocalOutboundPorts: 1-65535 is beyond the ceiling 5432"
    run c run --runc-binary "$wrapper" --runc-root "$RUNC_ROOT" --rm --net-host \
        --annotation run.tether.network.allowLocalOutboundPorts=5432 "$IMAGE_NAME" "e2e-$RANDOM" echo narrowed
    assert_success
    assert_output narrowed
}
