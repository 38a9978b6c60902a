#!/usr/bin/env bats
# Mounts: bind (rw/ro), tmpfs, read-only root, readonly and masked paths.

load helpers

@test "bind mount [host dir visible and writable]" {
    mkdir "$TEST_DIR/shared"
    echo from-host >"$TEST_DIR/shared/in"
    update_config ".mounts += [{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"$TEST_DIR/shared\", \"options\": [\"bind\"]}]"
    set_args sh -c 'cat /data/in; echo from-container >/data/out'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output from-host
    [[ $(cat "$TEST_DIR/shared/out") == from-container ]]
}

@test "bind mount ro [writes fail]" {
    mkdir "$TEST_DIR/shared"
    update_config ".mounts += [{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"$TEST_DIR/shared\", \"options\": [\"bind\", \"ro\"]}]"
    set_args sh -c 'touch /data/x && echo wrote || echo denied'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line denied
    [[ ! -e $TEST_DIR/shared/x ]]
}

@test "bind mount of a file [content visible]" {
    echo file-content >"$TEST_DIR/single"
    update_config ".mounts += [{\"destination\": \"/etc/single\", \"type\": \"bind\", \"source\": \"$TEST_DIR/single\", \"options\": [\"rbind\", \"ro\"]}]"
    set_args cat /etc/single
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output file-content
}

@test "tmpfs [mounted with its options, writable in a read-only root]" {
    update_config '.mounts += [{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "size=1m", "mode=1777"]}]'
    set_args sh -c 'grep " /scratch " /proc/mounts; echo x >/scratch/f && echo written'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line --regexp '^tmpfs /scratch tmpfs .*size=1024k'
    assert_line written
}

@test "root readonly [writes to / fail]" {
    update_config '.root.readonly = true'
    set_args sh -c 'touch /etc/x && echo wrote || echo denied'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line denied
    [[ ! -e $BUNDLE/rootfs/etc/x ]]
}

@test "root writable [writes land in the bundle's rootfs]" {
    update_config '.root.readonly = false'
    set_args sh -c 'echo persisted >/etc/x'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    [[ $(cat "$BUNDLE/rootfs/etc/x") == persisted ]]
}

@test "readonlyPaths [/proc/sys is read-only]" {
    update_config '.linux.readonlyPaths = ["/proc/sys"]'
    set_args sh -c 'echo 1 >/proc/sys/kernel/domainname 2>/dev/null && echo wrote || echo denied'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line denied
}

@test "maskedPaths [masked file reads empty, masked dir is empty]" {
    update_config '.linux.maskedPaths = ["/proc/keys", "/proc/timer_list", "/sys/firmware"]'
    set_args sh -c 'wc -c </proc/keys; ls /sys/firmware | wc -l'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output $'0\n0'
}

@test "mounts [the host's mount table is unchanged after the container]" {
    before=$(awk '{print $5}' /proc/self/mountinfo | sort)
    update_config '.mounts += [{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}]'
    set_args true
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    after=$(awk '{print $5}' /proc/self/mountinfo | sort)
    [[ $before == "$after" ]]
}

@test "mount destination through a symlink [stays inside the rootfs]" {
    mkdir "$TEST_DIR/outside"
    # A symlink in the rootfs pointing at a host path must be resolved
    # inside the rootfs, never followed onto the host.
    ln -s "$TEST_DIR/outside" "$BUNDLE/rootfs/escape"
    update_config '.root.readonly = false | .mounts += [{"destination": "/escape", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}]'
    set_args sh -c 'echo inside >/escape/marker'
    runtime run --bundle "$BUNDLE" "$ID"
    [[ ! -e $TEST_DIR/outside/marker ]]
    [[ -z $(find "$TEST_DIR/outside" -mindepth 1) ]]
}
