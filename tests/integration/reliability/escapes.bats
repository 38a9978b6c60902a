#!/usr/bin/env bats
# tether-tests: serial (races a symlink flip against 40 creates)
# Attacks on the boundary between the host and the container, performed for
# real: leaked fds and a cwd outside the rootfs (CVE-2024-21626), mount
# destinations through symlinks and symlinks swapped during create
# (CVE-2021-30465), /proc and /sys over symlinks (CVE-2019-19921), and the
# runtime binary reached from the container (CVE-2019-5736).

load reliability_helpers

setup() {
    reliability_setup
    # A host-only directory with a secret: if any attack can read it, or
    # change it, from the container, the test fails.
    HOST_DIR=$TEST_DIR/host-only
    mkdir -p "$HOST_DIR"
    SECRET="host-secret-$RANDOM$RANDOM"
    echo "$SECRET" >"$HOST_DIR/secret"
}

teardown() {
    [[ -z ${FLIPPER_PID:-} ]] || { kill "$FLIPPER_PID" 2>/dev/null; wait "$FLIPPER_PID" 2>/dev/null; } || true
    teardown_bundle
}

# run_container_with_fds OUT ARGS...: `run` with fds 3..20 open in the
# caller: files, a pipe, a socket, the host's / and HOST_DIR as directories.
run_container_with_fds() {
    local out=$1
    shift
    printf '%s\n' "${*: -1}" >>"$TEST_DIR/ids"
    echo "$RUNTIME" >"$ROOT.bin"
    status=0
    (
        exec 3</ 4<"$HOST_DIR" 5<"$HOST_DIR/secret" 6</etc/passwd 7<"$HOST_DIR" 8</dev/null
        exec 9< <(sleep 60) 10<"$HOST_DIR" 11</ 12</dev/null 13<"$HOST_DIR/secret"
        exec 14<"$HOST_DIR" 15</ 16</dev/null 17<"$HOST_DIR" 18</ 19<"$HOST_DIR" 20<"$HOST_DIR"
        exec timeout -k 5 "$RUNTIME_TIMEOUT" "$RUNTIME" --root "$ROOT" "$@" </dev/null >"$out" 2>&1
    ) || status=$?
    output=$(cat "$out")
    mapfile -t lines <<<"$output"
}

# fd_numbers: the numbers in $output lines that are only digits, sorted.
fd_numbers() {
    grep -E '^[0-9]+$' <<<"$output" | sort -n | tr '\n' ' '
}

# The container's pid 1 (sh) lists its own fds with a simple command, no
# pipeline (a pipeline's pipe ends would be listed), then resolves them.
@test "fd leak [fds 3..20 of the caller, directories included: the container sees only 0, 1, 2]" {
    set_args sh -c 'ls -1 /proc/1/fd; for f in /proc/1/fd/*; do readlink $f; done; cat /proc/1/fd/5 /proc/1/fd/13; true'
    run_container_with_fds "$TEST_DIR/out" run --bundle "$BUNDLE" "$ID"
    assert_success
    [[ $(fd_numbers) == "0 1 2 " ]]
    refute_output --partial "$SECRET"
    refute_output --partial "$HOST_DIR"
}

@test "fd leak [--preserve-fds 3 of 18 open: exactly fds 3, 4, 5 pass]" {
    set_args sh -c 'ls -1 /proc/1/fd; true'
    run_container_with_fds "$TEST_DIR/out" run --preserve-fds 3 --bundle "$BUNDLE" "$ID"
    assert_success
    [[ $(fd_numbers) == "0 1 2 3 4 5 " ]]
}

@test "fd leak [created container: the waiting init holds no fd of the caller; after start only 0, 1, 2]" {
    set_args sh -c 'trap "exit 0" TERM; while :; do sleep 1; done'
    run_container_with_fds "$TEST_DIR/out" create --bundle "$BUNDLE" "$ID" &
    local creator=$!
    local i pid=
    for ((i = 0; i < 200; i++)); do
        pid=$(state_field "$ID" pid)
        [[ -n $pid && $(state_field "$ID" status) == created ]] && break
        sleep 0.1
    done
    wait "$creator" || true
    [[ -n $pid ]]
    # What the init holds while it waits: nothing that points at the caller's
    # files (HOST_DIR, /etc/passwd, the secret) or at the host's root.
    local targets
    targets=$(for f in /proc/$pid/fd/*; do readlink "$f"; done)
    echo "init fds before start: $targets" >&2
    ! grep -qF "$HOST_DIR" <<<"$targets"
    ! grep -qxF / <<<"$targets"
    ! grep -qxF /etc/passwd <<<"$targets"
    runtime start "$ID"
    assert_success
    wait_for_status "$ID" running
    run ls /proc/$pid/fd
    assert_success
    [[ $(sort -n <<<"$output" | tr '\n' ' ') == "0 1 2 " ]]
}

@test "CVE-2024-21626 [process.cwd /proc/self/fd/N with directory fds open: never a host directory]" {
    local n
    for n in 3 4 7 10 14 19; do
        update_config ".process.cwd = \"/proc/self/fd/$n\""
        set_args sh -c 'echo "cwd=$(pwd)"; cat secret ../secret ../../secret 2>/dev/null; ls; true'
        ID=$(new_id)
        run_container_with_fds "$TEST_DIR/out-$n" run --bundle "$BUNDLE" "$ID"
        echo "fd $n -> status $status: $output" >&2
        # Refused, or run in a directory of the container: never the secret.
        refute_output --partial "$SECRET"
        refute_output --partial "$HOST_DIR"
        [[ $status -ne 0 ]] || assert_line --regexp '^cwd=/'
    done
}

@test "CVE-2024-21626 [process.cwd with .. and absolute symlinks resolves inside the rootfs]" {
    # Symlinks planted in the rootfs that point at the host directory.
    ln -s "$HOST_DIR" "$BUNDLE/rootfs/abs-link"
    ln -s ../../../../../../../../../../../.."$HOST_DIR" "$BUNDLE/rootfs/rel-link"
    local cwd
    for cwd in /abs-link /rel-link "/../../../../..$HOST_DIR" /abs-link/../../..; do
        update_config ".process.cwd = \"$cwd\""
        set_args sh -c 'echo "cwd=$(pwd)"; cat secret 2>/dev/null; true'
        ID=$(new_id)
        invoke run --bundle "$BUNDLE" "$ID"
        echo "cwd $cwd -> status $status: $output" >&2
        refute_output --partial "$SECRET"
    done
    # Nothing was created on the host side by resolving those paths.
    [[ $(ls -A "$HOST_DIR") == secret ]]
}

@test "mount destination through absolute and relative symlinks [lands inside the rootfs, host untouched]" {
    ln -s "$HOST_DIR" "$BUNDLE/rootfs/abs-link"
    ln -s ../../../../../../../../../../../.."$HOST_DIR" "$BUNDLE/rootfs/rel-link"
    update_config '.mounts += [
        {"destination": "/abs-link", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]},
        {"destination": "/rel-link/sub", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]},
        {"destination": "/../../../..'"$HOST_DIR"'/dotdot", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}]'
    set_args sh -c 'echo marker >/abs-link/inside; echo marker >/rel-link/sub/inside; echo marker >"/'"${HOST_DIR#/}"'/dotdot/inside"; grep -c tmpfs /proc/self/mounts'
    invoke run --bundle "$BUNDLE" "$ID"
    echo "$output" >&2
    # The host directory only ever holds its secret: no mount point was
    # created in it, nothing was written through the container's mounts.
    [[ $(ls -A "$HOST_DIR") == secret ]]
    ! grep -qF " $HOST_DIR" /proc/self/mountinfo
}

@test "symlink swapped during create (CVE-2021-30465 race) [a mount never lands outside the rootfs]" {
    # A loop flips rootfs/race between a directory inside the rootfs and a
    # symlink to HOST_DIR (atomic renames) while creates resolve and mount
    # /race/vol. Each create either fails cleanly or mounts inside.
    mkdir -p "$BUNDLE/rootfs/inside-dir" "$TEST_DIR/vol"
    echo volume >"$TEST_DIR/vol/volume-marker"
    update_config '.mounts += [{"destination": "/race/vol", "type": "bind", "source": "'"$TEST_DIR/vol"'", "options": ["rbind"]}]'
    set_args true
    (
        cd "$BUNDLE/rootfs" || exit 1
        while :; do
            ln -sfn "$HOST_DIR" race.tmp && mv -T race.tmp race
            ln -sfn inside-dir race.tmp && mv -T race.tmp race
        done
    ) &
    FLIPPER_PID=$!
    local i ok=0 refused=0
    for ((i = 0; i < 40; i++)); do
        ID=$(new_id)
        invoke run --bundle "$BUNDLE" "$ID"
        if [[ $status -eq 0 ]]; then ok=$((ok + 1)); else refused=$((refused + 1)); fi
        ! grep -Eq "$CRASH_PATTERN" <<<"$output"
        # The host directory never gets a mount point or a mount.
        [[ $(ls -A "$HOST_DIR") == secret ]]
        ! grep -qF " $HOST_DIR" /proc/self/mountinfo
        assert_no_leftovers "$ROOT" "$ID"
    done
    kill "$FLIPPER_PID"; wait "$FLIPPER_PID" 2>/dev/null || true; FLIPPER_PID=
    echo "race: $ok runs succeeded, $refused refused" >&2
}

@test "/proc and /sys over symlinks [refused, nothing mounted on the symlink's target]" {
    rm -rf "$BUNDLE/rootfs/proc"
    ln -s "$HOST_DIR" "$BUNDLE/rootfs/proc"
    invoke run --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial 'symlink'
    [[ $(ls -A "$HOST_DIR") == secret ]]
    assert_no_leftovers "$ROOT" "$ID"
    rm "$BUNDLE/rootfs/proc" && mkdir "$BUNDLE/rootfs/proc"
    rm -rf "$BUNDLE/rootfs/sys"
    ln -s ../../../../../../.."$HOST_DIR" "$BUNDLE/rootfs/sys"
    ID=$(new_id)
    invoke run --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial 'symlink'
    [[ $(ls -A "$HOST_DIR") == secret ]]
    assert_no_leftovers "$ROOT" "$ID"
}

@test "CVE-2019-5736 [a container sharing the pid namespace of a created container cannot write the runtime binary]" {
    # The waiting init of a created container is the runtime itself (tether
    # never re-execs): its /proc/PID/exe is the host binary. A second
    # container joins that pid namespace and tries to append to it. A copy of
    # the runtime is used so that a successful attack damages only the copy.
    local copy=$TEST_DIR/tether-copy before after first second
    cp "$RUNTIME" "$copy"
    before=$(sha256sum <"$copy")
    first=$(new_id)
    printf '%s\n' "$first" >>"$TEST_DIR/ids"
    echo "$copy" >"$ROOT.bin"
    timeout -k 5 30 "$copy" --root "$ROOT" create --bundle "$BUNDLE" "$first" </dev/null >"$TEST_DIR/first.out" 2>&1 3>&-
    local pid
    pid=$(timeout 10 "$copy" --root "$ROOT" state "$first" | jq -r .pid)
    [[ $(readlink /proc/$pid/exe) == "$copy" ]] || [[ $(readlink /proc/$pid/exe) == "$copy (deleted)" ]]

    mkdir -p "$TEST_DIR/second"
    cp -a "$BUNDLE/rootfs" "$TEST_DIR/second/rootfs"
    jq --arg ns "/proc/$pid/ns/pid" \
        '(.linux.namespaces[] | select(.type == "pid")) += {"path": $ns}
         | .process.args = ["sh", "-c", "for p in /proc/[0-9]*; do echo x >>$p/exe && echo WROTE $p; done; ls -l /proc/1/exe; true"]' \
        "$BUNDLE/config.json" >"$TEST_DIR/second/config.json"
    second=$(new_id)
    printf '%s\n' "$second" >>"$TEST_DIR/ids"
    status=0
    timeout -k 5 30 "$copy" --root "$ROOT" run --bundle "$TEST_DIR/second" "$second" </dev/null >"$TEST_DIR/second.out" 2>&1 3>&- || status=$?
    output=$(cat "$TEST_DIR/second.out")
    echo "second container: status $status: $output" >&2
    refute_output --partial WROTE
    after=$(sha256sum <"$copy")
    [[ $before == "$after" ]]
}

@test "CVE-2019-5736 [the container's /proc/self/exe is the container's binary, not the runtime]" {
    # (Writing /proc/1/exe here would only change the container's own
    # busybox, which is the container's to change.)
    set_args sh -c 'readlink /proc/self/exe; readlink /proc/1/exe; true'
    local before after
    before=$(sha256sum <"$RUNTIME")
    invoke run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line --index 0 /bin/busybox
    refute_output --partial tether
    after=$(sha256sum <"$RUNTIME")
    [[ $before == "$after" ]]
}
