#!/usr/bin/env bats
# linux.maskedPaths and linux.readonlyPaths as the container's process sees
# them: masked files read empty and leave the real file alone, masked
# directories are empty and refuse new entries, read-only paths refuse
# writes ("Read-only file system") while the rest stays writable.

load helpers

setup() {
    require_runtime
    setup_bundle
    update_config '.root.readonly = false'
    echo top-secret >"$BUNDLE/rootfs/etc/secret"
    mkdir -p "$BUNDLE/rootfs/etc/secret-dir" "$BUNDLE/rootfs/data"
    echo inside >"$BUNDLE/rootfs/etc/secret-dir/file"
    echo readable >"$BUNDLE/rootfs/data/file"
}

@test "maskedPaths [a masked file reads empty; writes to it never reach the file]" {
    update_config '.linux.maskedPaths = ["/etc/secret"]'
    set_args sh -c 'echo "[$(cat /etc/secret)]"; echo overwritten >/etc/secret && echo write-ok; echo "[$(cat /etc/secret)]"'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output $'[]\nwrite-ok\n[]'
    run cat "$BUNDLE/rootfs/etc/secret"
    assert_output top-secret
}

@test "maskedPaths [a masked directory is empty and refuses new entries]" {
    update_config '.linux.maskedPaths = ["/etc/secret-dir"]'
    set_args sh -c 'echo "entries=$(ls -A /etc/secret-dir | wc -l)"; touch /etc/secret-dir/new'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure 1
    assert_line entries=0
    assert_line --partial 'Read-only file system'
    [[ -f $BUNDLE/rootfs/etc/secret-dir/file && ! -e $BUNDLE/rootfs/etc/secret-dir/new ]]
}

@test "maskedPaths [runc's defaults: each one the kernel has reads empty or is an empty directory]" {
    local paths
    paths=$(jq -r '.linux.maskedPaths | join(" ")' "$BUNDLE/config.json")
    [[ $paths == */proc/timer_list* ]]
    # Which of them exist depends on the kernel's configuration (kcore, acpi).
    set_args sh -c 'for p in '"$paths"'; do
            if [ -d $p ]; then echo "$p $(ls -A $p | wc -l)"
            elif [ -e $p ]; then echo "$p $(wc -c <$p)"; fi
        done'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line '/proc/timer_list 0'
    [[ $(wc -l <<<"$output") -ge 2 ]]
    local path size
    while read -r path size; do
        [[ $size == 0 ]] || fail "$path is not masked: $size"
    done <<<"$output"
}

@test "maskedPaths [without masks the same files have content (the control)]" {
    update_config '.linux.maskedPaths = []'
    set_args sh -c 'cat /etc/secret; wc -c </proc/timer_list'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line top-secret
    refute_line 0
}

@test "readonlyPaths [writes fail with Read-only file system; reads work; the rest stays writable]" {
    update_config '.linux.readonlyPaths = ["/data"]'
    set_args sh -c 'cat /data/file; touch /data/new; echo "touch=$?"; touch /tmp/elsewhere && echo elsewhere-ok'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line readable
    assert_line --partial "/data/new: Read-only file system"
    assert_line touch=1
    assert_line elsewhere-ok
    [[ ! -e $BUNDLE/rootfs/data/new ]]
}

@test "readonlyPaths [runc's defaults: /proc/sys refuses writes even in the container's own namespaces]" {
    [[ $(jq -r '.linux.readonlyPaths | index("/proc/sys") != null' "$BUNDLE/config.json") == true ]]
    set_args sh -c 'echo other >/proc/sys/kernel/hostname'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial 'Read-only file system'
}

@test "maskedPaths and readonlyPaths [paths the rootfs does not have are skipped, as runc does]" {
    update_config '.linux.maskedPaths += ["/no/such/file"] | .linux.readonlyPaths += ["/no/such/dir"]'
    set_args echo ran
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output ran
    [[ ! -e $BUNDLE/rootfs/no ]]
}

@test "maskedPaths [an absolute symlink is resolved inside the rootfs, never on the host]" {
    # /etc/secret-link -> /etc/secret resolves inside the rootfs.
    ln -s /etc/secret "$BUNDLE/rootfs/etc/secret-link"
    update_config '.linux.maskedPaths = ["/etc/secret-link"]'
    set_args sh -c 'echo "[$(cat /etc/secret)]"'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output '[]'
    run cat "$BUNDLE/rootfs/etc/secret"
    assert_output top-secret
}
