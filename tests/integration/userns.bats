#!/usr/bin/env bats
# User namespaces: uid/gid maps written by the runtime (as root, no
# newuidmap), what root inside owns, devices and /dev bind mounts, sysfs
# with and without the container's own network namespace, and the
# single-id mapping rootless podman makes.

load helpers

# use_userns HOST_ID SIZE: a user namespace mapping container 0.. onto
# HOST_ID.. for both uids and gids.
use_userns() {
    update_config ".linux.namespaces |= map(select(.type != \"user\")) + [{\"type\": \"user\"}]
        | .linux.uidMappings = [{\"containerID\": 0, \"hostID\": $1, \"size\": $2}]
        | .linux.gidMappings = [{\"containerID\": 0, \"hostID\": $1, \"size\": $2}]"
}

# maps: uid_map and gid_map with their columns squeezed.
MAPS='tr -s " " </proc/self/uid_map; tr -s " " </proc/self/gid_map'

setup() {
    require_runtime
    setup_bundle
    use_userns 100000 65536
    # Root inside is host uid 100000, which must be able to reach the rootfs
    # (runc has the same need): bats makes its directories private to root.
    local dir=$BUNDLE
    while [[ $dir == "$BATS_RUN_TMPDIR"* ]]; do
        chmod o+x "$dir"
        dir=$(dirname "$dir")
    done
    update_config '.mounts += [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]}]'
}

@test "userns [uid_map and gid_map show container 0 -> host 100000, size 65536; id is 0]" {
    set_args sh -c "$MAPS; id -u; id -g"
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output $' 0 100000 65536\n 0 100000 65536\n0\n0'
}

@test "userns [a file created in a tmpfs is owned by 0:0 inside; the rootfs's host-root files by nobody]" {
    set_args sh -c 'touch /tmp/f && stat -c %u:%g /tmp/f; stat -c %u /bin/busybox'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    # The bundle's files belong to host root, which the map does not cover:
    # the kernel shows them as the overflow uid.
    assert_output $'0:0\n'"$(cat /proc/sys/kernel/overflowuid)"
}

@test "userns [a file written through a bind mount is owned by host uid 100000 outside]" {
    local shared=$TEST_DIR/shared
    mkdir -p "$shared" "$BUNDLE/rootfs/shared"
    chown 100000:100000 "$shared"
    update_config ".mounts += [{\"destination\": \"/shared\", \"type\": \"bind\", \"source\": \"$shared\", \"options\": [\"rbind\", \"rw\"]}]"
    set_args sh -c 'echo hi >/shared/out && stat -c %u /shared/out'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output 0
    run stat -c %u:%g "$shared/out"
    assert_output 100000:100000
}

@test "userns [devices work: /dev/null, /dev/zero, /dev/urandom, and /dev/full from linux.devices]" {
    # mknod is not allowed in a user namespace: the runtime binds them.
    # The device cgroup allows it too, as podman's configs do.
    update_config '.linux.devices = [{"path": "/dev/full", "type": "c", "major": 1, "minor": 7, "fileMode": 438}]
        | .linux.resources.devices += [{"allow": true, "type": "c", "major": 1, "minor": 7, "access": "rwm"}]'
    set_args sh -c 'echo x >/dev/null && echo null-ok
        head -c 4 /dev/zero | wc -c; head -c 4 /dev/urandom | wc -c
        echo x >/dev/full; echo "full=$?"'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line null-ok
    assert_line 4
    assert_line --partial 'No space left on device'
    assert_line full=1
}

@test "userns [capabilities of root inside are the configured ones]" {
    set_args grep -E '^Cap(Eff|Bnd):' /proc/self/status
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line --regexp '^CapEff:[[:space:]]+0000000020000420$'
    assert_line --regexp '^CapBnd:[[:space:]]+0000000020000420$'
}

@test "userns [masked and read-only paths apply inside a user namespace too]" {
    set_args sh -c 'wc -c </proc/timer_list; echo x >/proc/sys/kernel/hostname'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_line 0
    assert_line --partial 'Read-only file system'
}

@test "userns [single-id mapping (rootless podman): 0 -> 1000, size 1]" {
    use_userns 1000 1
    # gid 5 (tty) is not mapped: drop devpts's gid=5 as `runc spec --rootless`
    # does (the kernel refuses the mount otherwise, with runc too).
    update_config '(.mounts[] | select(.destination == "/dev/pts") | .options) -= ["gid=5"]'
    set_args sh -c "$MAPS; id -u; touch /tmp/f && stat -c %u /tmp/f"
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output $' 0 1000 1\n 0 1000 1\n0\n0'
}

@test "userns [own network namespace: sysfs is mounted and shows only the container's interfaces]" {
    set_args sh -c 'ls /sys/class/net; grep -E " /sys " /proc/self/mountinfo | grep -c sysfs'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output $'lo\n1'
}

@test "userns [host network namespace: /sys is bound from the host and shows its interfaces]" {
    local host_ifaces
    host_ifaces=$(ls /sys/class/net | tr '\n' ' ')
    [[ $host_ifaces != 'lo ' ]] || skip "the host has no interface but lo: nothing tells the two sysfs apart"
    # sysfs cannot be mounted in a user namespace that does not own the
    # network namespace: the runtime binds the host's /sys instead.
    update_config '.linux.namespaces |= map(select(.type != "network"))'
    set_args sh -c 'ls /sys/class/net | tr "\n" " "'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output "$host_ifaces"
}

@test "userns [the bundle's parent directory is 0700 host root: the runtime finds the rootfs, not the mapped root]" {
    # Host uid 100000 (root inside) may not search $TEST_DIR/private; only
    # the rootfs itself is open to it. runc fails here with "permission
    # denied" binding the rootfs; crun runs it.
    local private=$TEST_DIR/private
    mkdir "$private"
    chmod 0700 "$private"
    mv "$BUNDLE" "$private/bundle"
    BUNDLE=$private/bundle
    set_args sh -c 'id -u; cat /proc/self/uid_map | tr -s " "; ls /bin/busybox'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output $'0\n 0 100000 65536\n/bin/busybox'
    # The same with --no-pivot (MS_MOVE of the rootfs onto /).
    local id2
    id2=$(new_id)
    runtime run --no-pivot --bundle "$BUNDLE" "$id2"
    assert_success
    assert_output $'0\n 0 100000 65536\n/bin/busybox'
}

@test "userns [a user namespace without uidMappings is refused]" {
    update_config 'del(.linux.uidMappings)'
    set_args true
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial uidMappings
}

@test "userns [bind sources inside a 0700 bundle: opened by the runtime, as runc does with the host's privileges]" {
    # Host uid 100000 (root inside) may not search the 0700 bundle: the
    # sources are cloned by create (open_tree) before the init is the
    # mapped root, and attached in the container's mount namespace.
    local private=$TEST_DIR/private
    mkdir "$private"
    chmod 0700 "$private"
    mv "$BUNDLE" "$private/bundle"
    BUNDLE=$private/bundle
    mkdir -p "$BUNDLE/vol"
    echo in-a-dir >"$BUNDLE/vol/file"
    echo a-file >"$BUNDLE/single"
    # The mapped root may not create them in the host-root-owned rootfs.
    mkdir "$BUNDLE/rootfs/vol"
    touch "$BUNDLE/rootfs/single"
    update_config '.mounts += [
        {"destination": "/vol", "type": "bind", "source": "vol", "options": ["rbind", "ro"]},
        {"destination": "/single", "type": "bind", "source": "'"$BUNDLE/single"'", "options": ["bind"]}]'
    set_args sh -c 'cat /vol/file /single; grep -E " /(vol|single) " /proc/self/mountinfo | cut -d" " -f5,6,7'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line --index 0 in-a-dir
    assert_line --index 1 a-file
    # ro held; not a shared peer of the host's mount (no "shared:" tag).
    assert_line --regexp '^/vol ro,'
    refute_output --partial shared:
    # A missing source is refused by name, before anything exists.
    update_config '.mounts += [{"destination": "/gone", "type": "bind", "source": "no-such-dir", "options": ["rbind"]}]'
    local id2
    id2=$(new_id)
    runtime run --bundle "$BUNDLE" "$id2"
    assert_failure
    assert_output --partial "no-such-dir"
}
