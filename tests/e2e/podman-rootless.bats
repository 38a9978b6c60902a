#!/usr/bin/env bats
# Rootless podman running a container through tether. The test creates a user
# with its own /etc/subuid and /etc/subgid ranges, private podman storage and
# XDG_RUNTIME_DIR, and removes all of it (processes, user, ranges, files)
# afterwards. podman runs the runtime inside the user namespace it builds
# with newuidmap/newgidmap.

load helpers

E2E_USER=tether-e2e
SUBID_START=3400000000
SUBID_COUNT=65536

setup_file() {
    require_client podman conmon newuidmap newgidmap useradd userdel runuser
    require_user_namespaces
    require_runtime
    ensure_image
    if id "$E2E_USER" >/dev/null 2>&1; then
        # A previous run died before its teardown: start from nothing.
        remove_test_user "$E2E_USER"
    fi
    ROOTLESS_DIR=$(mktemp -d /tmp/tether-e2e-rootless.XXXXXX)
    echo "$ROOTLESS_DIR" >"$BATS_FILE_TMPDIR/rootless-dir"
    export ROOTLESS_DIR
    chmod 755 "$ROOTLESS_DIR"
    add_test_user "$E2E_USER" "$ROOTLESS_DIR/home" "$SUBID_START"
    local uid
    uid=$(id -u "$E2E_USER")
    mkdir -p "$ROOTLESS_DIR/home" "$ROOTLESS_DIR/xdg" "$ROOTLESS_DIR/bin"
    # The user runs its own copy: the build tree may not be readable to it.
    install -m 0755 "$RUNTIME" "$ROOTLESS_DIR/bin/tether"
    # tether finds its network daemon next to itself (sandboxes).
    install -m 0755 "$(dirname "$RUNTIME")/tether-netd" "$ROOTLESS_DIR/bin/tether-netd"
    install -m 0644 "$IMAGE_CACHE/rootfs.tar" "$ROOTLESS_DIR/rootfs.tar"
    # The user's own containers.conf plus contrib's snippet as a drop-in,
    # the way a rootless user installs it (with the path of the test copy).
    local conf=$ROOTLESS_DIR/home/.config/containers
    mkdir -p "$conf/containers.conf.d"
    podman_test_settings "$ROOTLESS_DIR/home/events.log" >"$conf/containers.conf"
    tether_podman_snippet "$ROOTLESS_DIR/bin/tether" >"$conf/containers.conf.d/tether.conf"
    write_podman_storage_conf "$ROOTLESS_DIR/storage.conf" "$ROOTLESS_DIR"
    chown -R "$E2E_USER:" "$ROOTLESS_DIR/home" "$ROOTLESS_DIR/xdg"
    chmod 700 "$ROOTLESS_DIR/xdg"
    mkdir -p "$ROOTLESS_DIR/runroot" "$ROOTLESS_DIR/graphroot"
    chown "$E2E_USER:" "$ROOTLESS_DIR/runroot" "$ROOTLESS_DIR/graphroot"
    as_user podman import -q "$ROOTLESS_DIR/rootfs.tar" "$IMAGE_NAME" >/dev/null
}

teardown_file() {
    local dir
    dir=$(cat "$BATS_FILE_TMPDIR/rootless-dir" 2>/dev/null) || dir=
    if [[ -n $dir && -d $dir ]]; then
        ROOTLESS_DIR=$dir
        as_user podman --runtime tether rm -af -t 0 >/dev/null 2>&1 || true
    fi
    remove_test_user "$E2E_USER"
    if [[ -n $dir && -d $dir ]]; then
        unmount_under "$dir"
        rm -rf "$dir"
    fi
}

teardown() {
    as_user podman --runtime tether rm -af -t 0 >/dev/null 2>&1 || true
}

# as_user CMD...: CMD as the test user, in a clean environment that points
# podman at the private configuration.
as_user() {
    bounded runuser -u "$E2E_USER" -- env -i \
        HOME="$ROOTLESS_DIR/home" USER="$E2E_USER" LOGNAME="$E2E_USER" \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        XDG_RUNTIME_DIR="$ROOTLESS_DIR/xdg" \
        CONTAINERS_STORAGE_CONF="$ROOTLESS_DIR/storage.conf" \
        "$@"
}

@test "rootless podman: a container runs through tether in the user's namespace" {
    # contrib's drop-in registered the runtime for this user.
    run as_user podman --runtime tether info --format '{{.Host.OCIRuntime.Path}}'
    assert_success
    assert_output "$ROOTLESS_DIR/bin/tether"

    run as_user podman --runtime tether run --rm --network none "$IMAGE_NAME" \
        sh -c 'echo hello from rootless; id -u; cat /proc/self/uid_map'
    assert_success
    assert_line "hello from rootless"
    assert_line 0
    # uid 0 inside is the test user outside, then the subordinate range.
    assert_line --regexp "^ +0 +$(id -u "$E2E_USER") +1$"
    assert_line --regexp "^ +1 +$SUBID_START +$SUBID_COUNT$"

    run as_user podman --runtime tether run --rm --network none "$IMAGE_NAME" sh -c 'exit 9'
    assert_equal "$status" 9
}

@test "rootless podman: run -d, stop and rm" {
    run as_user podman --runtime tether run -d --network none "$IMAGE_NAME" "${SERVICE_CMD[@]}"
    assert_success
    local cid=${lines[-1]}
    run as_user podman --runtime tether inspect --format '{{.State.Status}}' "$cid"
    assert_output running
    run as_user podman --runtime tether stop -t 10 "$cid"
    assert_success
    run as_user podman --runtime tether inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$cid"
    assert_output "exited 143"
    run as_user podman --runtime tether rm "$cid"
    assert_success
}

# Rootless, tether-netd cannot attach the cgroup socket programs (bpf(2) needs
# CAP_BPF and CAP_NET_ADMIN on the host): the fallback path. Without
# bestEffort the sandbox refuses to start and says why; with it the seccomp
# supervisor decides alone, which the container sees as a second seccomp
# filter (the notify filter beside the closures).
@test "rootless podman: a network sandbox takes the supervisor fallback, only with bestEffort" {
    run as_user podman --runtime tether run --rm --network none \
        --annotation run.tether.network.allowLocalOutboundPorts=5432 "$IMAGE_NAME" true
    assert_failure
    assert_output --partial "kernel enforcement is unavailable"
    assert_output --partial "run.tether.sandbox.bestEffort=true"
    # The reason, not a symptom of it (the cgroup layout).
    assert_output --partial "tether-netd runs in a user namespace (rootless; uid 0 here is uid $(id -u "$E2E_USER") outside)"

    # podman's own profile is one filter; a sandbox adds the closures, and on
    # the supervisor path the notify filter.
    run as_user podman --runtime tether run --rm --network none "$IMAGE_NAME" \
        sh -c 'grep "^Seccomp_filters:" /proc/self/status'
    assert_success
    local plain=${output##*:}
    run as_user podman --runtime tether run --rm --network none \
        --annotation run.tether.network.allowLocalOutboundPorts=5432 \
        --annotation run.tether.sandbox.bestEffort=true "$IMAGE_NAME" \
        sh -c 'grep "^Seccomp_filters:" /proc/self/status'
    assert_success
    [[ $((${output##*:})) == $((plain + 2)) ]] ||
        fail "expected $((plain + 2)) seccomp filters (profile, closures, notify), got: $output"
    echo "rootless sandbox path: seccomp supervisor (fallback, bestEffort)" >&3
}

# In a network namespace of its own (--network none: only lo), the sandbox
# reaches the host's loopback only through tether-netd's bridge: a listener
# on the container's 127.0.0.1:<listed port> whose connections tether-netd,
# outside in the user's (here the host's) network namespace, joins to the
# host's 127.0.0.1:<listed port>. An unlisted port has no bridge, and nothing
# else leads out of the namespace. Rootless, the cgroup socket programs are
# out of reach (see above), so the policy says bestEffort.
@test "rootless podman: a sandbox in its own network namespace reaches its listed host port through the bridge, not an unlisted one" {
    local listed unlisted
    listed=$(start_loopback_listener)
    unlisted=$(start_loopback_listener)
    run as_user podman --runtime tether run --rm --network none \
        --annotation run.tether.network.allowLocalOutboundPorts="$listed" \
        --annotation run.tether.sandbox.bestEffort=true "$IMAGE_NAME" \
        sh -c "readlink /proc/self/ns/net; ls /sys/class/net; $(sandbox_probe_cmd "$listed" "$unlisted")"
    stop_loopback_listeners
    assert_success
    [[ ${lines[0]} != "$(host_netns)" ]] || fail "the sandbox shares the host's network namespace: $output"
    assert_line --index 1 lo
    assert_line reached-listed
    assert_line --partial "Connection refused"
}
