#!/usr/bin/env bats
# tether-tests: serial (compares the host's whole mount table before and after a run)
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

# The host's mount points, without those other test runs on the same machine
# make and remove meanwhile (their own bats directories, network namespaces
# from `ip netns add`): this test's directory and everything else stay in.
host_mount_points() {
    awk '{print $5}' /proc/self/mountinfo | grep -v -e '^/run/netns/' -e '^/var/run/netns/' |
        awk -v own="${BATS_RUN_TMPDIR:-/nonexistent}" 'index($0, "/tmp/bats-run-") != 1 || index($0, own) == 1' | sort
}

@test "mounts [the host's mount table is unchanged after the container]" {
    before=$(host_mount_points)
    update_config '.mounts += [{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}]'
    set_args true
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    after=$(host_mount_points)
    [[ $before == "$after" ]] || fail "mount points changed: $(diff <(echo "$before") <(echo "$after"))"
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

# ---------------------------------------------------------------- conformance

# root_line: the "/" line of the container's mountinfo, optional fields kept.
ROOT_LINE='awk "\$5 == \"/\"" /proc/self/mountinfo'

@test "no mount namespace [runs chrooted in the runtime's mount namespace, like runc; nothing mounted on the host]" {
    # runc refuses maskedPaths/readonlyPaths without a mount namespace and
    # mounts config.mounts into the caller's namespace (left there after
    # delete): the comparable config has none of them.
    update_config '.linux.namespaces |= map(select(.type != "mount"))
        | .mounts = [] | .linux.maskedPaths = [] | .linux.readonlyPaths = [] | .root.readonly = false'
    local mine
    mine=$(readlink /proc/self/ns/mnt)
    set_args sh -c 'readlink /proc/1/ns/mnt 2>/dev/null; ls /bin/busybox; echo done'
    local before
    before=$(wc -l </proc/self/mountinfo)
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    # /proc is the rootfs's empty directory: no procfs was mounted.
    assert_output $'/bin/busybox\ndone'
    [[ $(wc -l </proc/self/mountinfo) == "$before" ]]
    # (runc 1.1.5 cannot run this config: it needs /proc/self/fd in the
    # rootfs, and it leaves its rootfs bind mounted on the host.)
    # The init shared our mount namespace: seen from the host while it runs.
    set_args sh -c 'trap "exit 0" TERM; while :; do sleep 1; done'
    local id2
    id2=$(new_id)
    runtime run -d --bundle "$BUNDLE" "$id2"
    assert_success
    [[ $(readlink /proc/$(state_field "$id2" pid)/ns/mnt) == "$mine" ]]
    runtime delete --force "$id2"
    assert_success
}

@test "no mount namespace [mounts, maskedPaths, readonly root are refused by name, nothing left]" {
    update_config '.linux.namespaces |= map(select(.type != "mount"))'
    runtime create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial 'mounts[0] (/proc): needs a mount namespace'
    assert_no_leftovers "$ROOT" "$ID"
}

@test "rootfsPropagation [all eight values run; / carries the propagation runc gives it, unbindable included]" {
    local value expect
    for value in shared slave private unbindable rshared rslave rprivate runbindable; do
        update_config ".linux.rootfsPropagation = \"$value\""
        set_args sh -c "$ROOT_LINE"
        ID=$(new_id)
        runtime run --bundle "$BUNDLE" "$ID"
        assert_success
        echo "$value: $output" >&2
        case $value in
            shared | rshared) assert_output --partial ' shared:' ;;
            unbindable | runbindable) assert_output --partial ' unbindable ' ;;
            *) refute_output --regexp ' (shared:|unbindable)' ;;
        esac
        # runc 1.1.5 fails the two unbindable values (EINVAL binding the
        # rootfs) and leaves "shared" unapplied (runc#1755, fixed in 1.2.6
        # by applying it after pivot_root, as here); for the others "/"
        # must carry the same tags as under runc.
        if command -v runc >/dev/null && [[ $value == *private || $value == *slave ]]; then
            expect=$(grep -oE ' (shared|master):[0-9]+' <<<"$output" | cut -d: -f1 | tr -d ' ')
            runtime_bin "$(command -v runc)" "$TEST_DIR/root-runc" run --bundle "$BUNDLE" "$(new_id)"
            assert_success
            [[ $(grep -oE ' (shared|master):[0-9]+' <<<"$output" | cut -d: -f1 | tr -d ' ') == "$expect" ]]
        fi
    done
}
