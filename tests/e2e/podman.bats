#!/usr/bin/env bats
# podman (as root) running containers through tether.
#
# podman reads a private containers.conf (CONTAINERS_CONF: contrib/podman's
# snippet pointed at the runtime under test, plus this machine's ulimits) and
# a private storage.conf, so the host's podman setup is never touched. podman
# never passes --root: the runtime's state lives in its default /run/tether,
# which is where these tests look for it.

load helpers

TETHER_DEFAULT_ROOT=/run/tether

setup_file() {
    require_client podman conmon
    require_runtime
    ensure_image
    export PODMAN_E2E_DIR=$BATS_FILE_TMPDIR/podman
    mkdir -p "$PODMAN_E2E_DIR"
    cgroup_snapshot libpod_parent "$BATS_FILE_TMPDIR/podman-cgroups-before"
    write_podman_config "$PODMAN_E2E_DIR" "$RUNTIME"
    export CONTAINERS_CONF=$PODMAN_E2E_DIR/containers.conf
    export CONTAINERS_STORAGE_CONF=$PODMAN_E2E_DIR/storage.conf
    bounded podman import -q "$IMAGE_CACHE/rootfs.tar" "$IMAGE_NAME" >/dev/null
}

teardown_file() {
    [[ -n ${PODMAN_E2E_DIR:-} && -d $PODMAN_E2E_DIR ]] || return 0
    remove_podman_containers
    bounded podman rmi -af >/dev/null 2>&1 || true
    unmount_under "$PODMAN_E2E_DIR"
    rm -rf "$PODMAN_E2E_DIR"
    remove_new_cgroups libpod_parent "$BATS_FILE_TMPDIR/podman-cgroups-before" 2>/dev/null || true
}

teardown() {
    remove_podman_containers
    stop_loopback_listeners
}

# write_podman_config DIR RUNTIME: containers.conf and storage.conf in DIR.
# The runtime entry is contrib/podman/tether.conf with its paths replaced.
write_podman_config() {
    local dir=$1 runtime=$2
    {
        podman_test_settings "$dir/events.log"
        echo "tmp_dir = \"$dir/libpod-tmp\""
        # One file: the snippet's [engine] table continues the one above.
        tether_podman_snippet "$runtime" | sed '/^\[engine\]$/d'
    } >"$dir/containers.conf"
    write_podman_storage_conf "$dir/storage.conf" "$dir"
}

pm() {
    bounded podman --runtime tether "$@"
}

# Every container of the private storage, with the runtime's delete --force.
remove_podman_containers() {
    bounded podman --runtime tether rm -af -t 0 >/dev/null 2>&1 || true
}

# start_service [FLAGS...]: a detached container running SERVICE_CMD; sets CID.
start_service() {
    run pm run -d --network none "$@" "$IMAGE_NAME" "${SERVICE_CMD[@]}"
    assert_success
    CID=${lines[-1]}
    [[ $CID =~ ^[0-9a-f]{64}$ ]] || fail "podman run -d printed no container id: $output"
}

container_pid() {
    pm inspect --format '{{.State.Pid}}' "$1"
}

# cgroup_file PID CONTROLLER FILE: a v1 controller file of PID's cgroup.
cgroup_file() {
    local path
    path=$(awk -F: -v c="$2" '$2 == c || $2 ~ ("(^|,)" c "(,|$)") {print $3}' "/proc/$1/cgroup")
    cat "/sys/fs/cgroup/$2$path/$3"
}

@test "podman: the containers.conf snippet registers tether with JSON error logs" {
    run pm info --format '{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Path}}'
    assert_success
    assert_output "tether $RUNTIME"
    run pm info --format '{{.Host.OCIRuntime.Version}}'
    assert_output --partial "tether version"
}

@test "podman run --rm: stdout and the exit code reach the user" {
    run pm run --rm --network none "$IMAGE_NAME" echo hello from tether
    assert_success
    assert_output "hello from tether"

    run pm run --rm --network none "$IMAGE_NAME" sh -c 'echo out; echo err >&2; exit 7'
    assert_equal "$status" 7
    assert_line out
    assert_line err

    # --rm also removed the runtime's state: nothing is left in podman.
    run pm ps -aq
    assert_output ""
}

@test "podman run: a missing command exits 127 with a not-found message" {
    run -127 pm run --rm --network none "$IMAGE_NAME" no-such-command
    assert_equal "$status" 127
    assert_output --partial "executable file not found in \$PATH"

    run -127 pm run --rm --network none "$IMAGE_NAME" /no/such/binary
    assert_equal "$status" 127
    assert_output --partial "no such file or directory"
}

@test "podman exec (with and without -t) in a running container" {
    start_service
    run pm exec "$CID" sh -c 'echo exec says hi; cat /proc/1/cmdline | tr "\0" " "'
    assert_success
    assert_line "exec says hi"
    assert_line --partial "while :; do sleep 1; done"

    run pm exec "$CID" sh -c 'exit 5'
    assert_equal "$status" 5

    run pm exec -t "$CID" sh -c 'tty; [ -t 1 ] && echo stdout-is-a-tty'
    assert_success
    assert_line --regexp '^/dev/pts/[0-9]+'
    assert_line --partial stdout-is-a-tty
}

@test "podman run -d, stop, rm" {
    start_service
    run tether_state "$TETHER_DEFAULT_ROOT" "$CID"
    assert_success
    assert_equal "$(jq -r .status <<<"$output")" running
    run pm exec "$CID" echo exec says hi
    assert_success
    assert_output "exec says hi"

    run pm stop -t 10 "$CID"
    assert_success
    run pm inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$CID"
    assert_output "exited 143"

    run pm rm "$CID"
    assert_success
    # The runtime forgot it too.
    run tether_state "$TETHER_DEFAULT_ROOT" "$CID"
    assert_failure
}

@test "podman run -t: the process runs on a terminal" {
    run pm run --rm -t --network none "$IMAGE_NAME" sh -c 'tty; [ -t 0 ] && [ -t 1 ] && echo both-ttys'
    assert_success
    assert_output --regexp '/dev/pts/[0-9]+'
    assert_output --partial both-ttys
}

@test "podman kill: the signal reaches the container's process" {
    run pm run -d --network none "$IMAGE_NAME" sh -c 'trap "exit 42" USR1; while :; do sleep 1; done'
    assert_success
    CID=${lines[-1]}
    run pm kill -s USR1 "$CID"
    assert_success
    run pm wait "$CID"
    assert_success
    assert_output 42
}

@test "podman pause and unpause freeze and thaw the container" {
    start_service
    local pid
    pid=$(container_pid "$CID")
    run pm pause "$CID"
    assert_success
    assert_equal "$(tether_state "$TETHER_DEFAULT_ROOT" "$CID" | jq -r .status)" paused
    assert_equal "$(cgroup_file "$pid" freezer freezer.state)" FROZEN
    run pm inspect --format '{{.State.Status}}' "$CID"
    assert_output paused

    run pm unpause "$CID"
    assert_success
    assert_equal "$(tether_state "$TETHER_DEFAULT_ROOT" "$CID" | jq -r .status)" running
    assert_equal "$(cgroup_file "$pid" freezer freezer.state)" THAWED
    run pm exec "$CID" echo thawed
    assert_output thawed
}

@test "podman update changes the container's cgroup limits" {
    start_service
    local pid
    pid=$(container_pid "$CID")
    run pm update --memory 64m --cpus 0.5 "$CID"
    assert_success
    assert_equal "$(cgroup_file "$pid" memory memory.limit_in_bytes)" 67108864
    assert_equal "$(cgroup_file "$pid" cpu cpu.cfs_quota_us)" 50000
    assert_equal "$(cgroup_file "$pid" cpu cpu.cfs_period_us)" 100000
}

@test "podman --annotation reaches the runtime" {
    start_service --annotation tether.e2e/key=from-podman
    run tether_state "$TETHER_DEFAULT_ROOT" "$CID"
    assert_success
    assert_equal "$(jq -r '.annotations["tether.e2e/key"]' <<<"$output")" from-podman
    assert_equal "$(jq -r '.annotations["io.container.manager"]' <<<"$output")" libpod
}

@test "podman --network none: only a loopback interface, not the host's namespace" {
    run pm run --rm --network none "$IMAGE_NAME" sh -c 'readlink /proc/self/ns/net; ls /sys/class/net'
    assert_success
    [[ ${lines[0]} != "$(host_netns)" ]] || fail "the container shares the host's network namespace"
    assert_equal "${lines[*]:1}" lo
}

@test "podman --network host: the host's network namespace" {
    run pm run --rm --network host "$IMAGE_NAME" readlink /proc/self/ns/net
    assert_success
    assert_output "$(host_netns)"
}

# The network policy through podman, decided by the kernel: the cgroup socket
# programs (no notify filter: one seccomp filter more than a plain container,
# the closures).
@test "podman: a sandbox on the host network reaches its listed loopback port only, enforced in the kernel" {
    local listed unlisted plain
    listed=$(start_loopback_listener)
    unlisted=$(start_loopback_listener)
    run pm run --rm --network host "$IMAGE_NAME" sh -c "$(sandbox_probe_cmd "$listed" "$unlisted")"
    assert_probe_reached_both
    plain=$(grep '^Seccomp_filters:' <<<"$output" | cut -d: -f2)

    run pm run --rm --network host --annotation run.tether.network.allowLocalOutboundPorts="$listed" \
        "$IMAGE_NAME" sh -c "$(sandbox_probe_cmd "$listed" "$unlisted")"
    stop_loopback_listeners
    assert_probe_reached_listed_only
    [[ $(($(grep '^Seccomp_filters:' <<<"$output" | cut -d: -f2))) == $((plain + 1)) ]] ||
        fail "expected $((plain + 1)) seccomp filters (profile and closures, no notify filter): $output"
}

# The audit trail outlives the container: podman run --rm deletes the
# container and its state dir, the trail in /var/log/tether stays.
@test "podman run --rm: a sandbox's audit trail stays in /var/log/tether" {
    local unlisted cid
    unlisted=$(start_loopback_listener)
    run pm run --rm --network host --cidfile "$BATS_TEST_TMPDIR/cid" \
        --annotation run.tether.network.allowLocalOutboundPorts=1 "$IMAGE_NAME" \
        sh -c "echo | nc 127.0.0.1 $unlisted; true"
    stop_loopback_listeners
    assert_success
    cid=$(cat "$BATS_TEST_TMPDIR/cid")
    [[ -s /var/log/tether/$cid.jsonl ]] || fail "no audit trail for $cid"
    run jq -r "select(.verdict == \"deny\" and .id == \"$cid\") | .port" "/var/log/tether/$cid.jsonl"
    rm -f "/var/log/tether/$cid.jsonl"*
    assert_output "$unlisted"
}

# podman passes a device's host st_mode as fileMode, file type bits included
# (8630 for /dev/null); --privileged passes every host device that way.
@test "podman run --device and --privileged: the host's device nodes work in the container" {
    run pm run --rm --network none --device /dev/null:/dev/tether-null "$IMAGE_NAME" \
        sh -c 'echo x >/dev/tether-null && stat -c "%a %t:%T" /dev/tether-null'
    assert_success
    assert_output "666 1:3"
    run pm run --rm --network none --privileged "$IMAGE_NAME" sh -c 'test -c /dev/null && echo privileged'
    assert_success
    assert_output privileged
}

@test "podman: a failing prestart hook's stderr and exit status reach the podman user" {
    # A hooks.d entry (podman --hooks-dir) that fails the way a misconfigured
    # hook does: a line on stderr, exit 3. runc puts the hook's stderr into its
    # error; so does tether, and podman shows that error from --log.
    local dir=$BATS_TEST_TMPDIR/hooks.d
    mkdir -p "$dir"
    printf '#!/bin/sh\ncat >/dev/null\necho "boom: the database is not there" >&2\nexit 3\n' >"$dir/boom.sh"
    chmod +x "$dir/boom.sh"
    jq -n --arg path "$dir/boom.sh" \
        '{version: "1.0.0", hook: {path: $path}, when: {always: true}, stages: ["prestart"]}' >"$dir/boom.json"
    run pm run --rm --hooks-dir "$dir" --network none "$IMAGE_NAME" echo must-not-run
    assert_failure
    refute_output --partial must-not-run
    assert_output --partial "$dir/boom.sh failed with exit status 3"
    assert_output --partial "boom: the database is not there"
}
