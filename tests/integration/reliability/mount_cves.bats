#!/usr/bin/env bats
# The 2025-2026 runtime CVE classes around mounts, in static form: the
# attacker's rootfs (or a folder the bundle binds) holds symlinks that point
# at a canary of this test's own, never at a real host file. The container
# must be refused or get the safe result, and the canary must be untouched.
#   masked paths through a symlinked /dev/null   runc CVE-2025-31133
#   /dev/console from a symlinked /dev/pts/N     runc CVE-2025-52565
#   procfs writes redirected by a bind mount     runc CVE-2025-52881
#   a rootfs whose /dev is a symlink             runc CVE-2026-41579, crun CVE-2026-47766
# The root is read-only in each case: the canary can then change only
# through the runtime's mistake, never by a plain write of the container.

load reliability_helpers

RECEIVER=$INTEGRATION_ROOT/tools/console-receiver.py
ORIGINAL="canary-original-$$"

setup() {
    reliability_setup
    update_config '.root.readonly = true'
    echo "$ORIGINAL" >"$BUNDLE/rootfs/canary"
}

teardown() {
    [[ -z ${RECEIVER_PID:-} ]] || { kill "$RECEIVER_PID" 2>/dev/null; wait "$RECEIVER_PID" 2>/dev/null; } || true
    teardown_bundle
}

canary_untouched() {
    local file=${1:-$BUNDLE/rootfs/canary}
    echo "canary $file: $(cat "$file")" >&2
    [[ $(cat "$file") == "$ORIGINAL" ]]
}

@test "CVE-2025-31133 [maskedPaths with /dev/null a symlink to a canary: refused, canary untouched]" {
    # The bundle binds its own folder over /dev; there `null` is a symlink.
    mkdir -p "$BUNDLE/fakedev"
    ln -s /canary "$BUNDLE/fakedev/null"
    echo secret >"$BUNDLE/rootfs/etc/secret"
    update_config '(.mounts[] | select(.destination == "/dev")) |= {destination: "/dev", type: "bind", source: "'"$BUNDLE/fakedev"'", options: ["rbind"]}
        | .linux.maskedPaths = ["/etc/secret"]'
    set_args sh -c 'echo pwned >/etc/secret; cat /etc/secret; true'
    invoke run --bundle "$BUNDLE" "$ID"
    canary_untouched
    check_refused mask '/dev/null.*(symlink|1:3)' "$ID"
    [[ ! -s $TEST_DIR/problems ]] || { cat "$TEST_DIR/problems" >&2; false; }
}

@test "CVE-2025-31133 [maskedPaths with a real /dev/null: the masked file reads empty and cannot be written]" {
    echo secret >"$BUNDLE/rootfs/etc/secret"
    update_config '.linux.maskedPaths = ["/etc/secret"]'
    set_args sh -c 'echo "[$(cat /etc/secret)]"; echo x >/etc/secret && echo wrote; stat -c %t:%T /etc/secret'
    invoke run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line '[]'
    assert_line '1:3'
    [[ $(cat "$BUNDLE/rootfs/etc/secret") == secret ]]
}

@test "CVE-2025-52565 [/dev/pts/N a symlink to a canary: /dev/console is the real pty, canary untouched]" {
    command -v python3 >/dev/null || skip "python3 is needed for the console-socket receiver"
    # The bundle binds its own folder over /dev/pts: its ptmx leads to a
    # real devpts instance (so a pty exists), every N is a symlink to /canary.
    mkdir -p "$BUNDLE/fakepts"
    ln -s /dev/realpts/ptmx "$BUNDLE/fakepts/ptmx"
    local n
    for n in 0 1 2 3 4 5 6 7 8 9; do ln -s /canary "$BUNDLE/fakepts/$n"; done
    update_config '.process.terminal = true
        | (.mounts[] | select(.destination == "/dev/pts")) |= {destination: "/dev/pts", type: "bind", source: "'"$BUNDLE/fakepts"'", options: ["rbind"]}
        | .mounts += [{destination: "/dev/realpts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]}]'
    set_args sh -c 'echo pwned >/dev/console; echo "console=$(stat -c %F /dev/console)"'
    local sock=$TEST_DIR/console.sock
    python3 "$RECEIVER" "$sock" "$TEST_DIR/pty" 3>&- &
    RECEIVER_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do [[ -S $sock ]] && break; sleep 0.1; done
    invoke run --console-socket "$sock" --detach --bundle "$BUNDLE" "$ID"
    echo "run: $status: $output" >&2
    if [[ $status -eq 0 ]]; then
        wait_for_status "$ID" stopped
        for ((i = 0; i < 100; i++)); do kill -0 "$RECEIVER_PID" 2>/dev/null || break; sleep 0.1; done
        echo "pty: $(cat "$TEST_DIR/pty")" >&2
        canary_untouched
        # What the container wrote to /dev/console went to its terminal.
        grep -q 'console=character special file' "$TEST_DIR/pty"
        grep -q pwned "$TEST_DIR/pty"
    fi
    canary_untouched
}

@test "CVE-2025-52881 [sysctl and oomScoreAdj redirected by binds over /proc: written to the real procfs, canaries untouched]" {
    # Symlinks in the rootfs turn two volume destinations into paths under
    # the container's /proc; the volumes hold canary files.
    mkdir -p "$TEST_DIR/vol"
    echo "$ORIGINAL" >"$TEST_DIR/vol/ip_forward"
    echo "$ORIGINAL" >"$TEST_DIR/oom-canary"
    ln -s /proc/sys/net/ipv4 "$BUNDLE/rootfs/data"
    ln -s /proc/self/oom_score_adj "$BUNDLE/rootfs/data-oom"
    update_config '.mounts += [
            {destination: "/data", type: "bind", source: "'"$TEST_DIR/vol"'", options: ["rbind"]},
            {destination: "/data-oom", type: "bind", source: "'"$TEST_DIR/oom-canary"'", options: ["bind"]}]
        | .linux.sysctl = {"net.ipv4.ip_forward": "1"}
        | .process.oomScoreAdj = 500'
    set_args sh -c 'trap "exit 0" TERM; while :; do sleep 1; done'
    invoke create --bundle "$BUNDLE" "$ID"
    echo "create: $status: $output" >&2
    canary_untouched "$TEST_DIR/vol/ip_forward"
    canary_untouched "$TEST_DIR/oom-canary"
    if [[ $status -eq 0 ]]; then
        local pid
        pid=$(state_field "$ID" pid)
        # The real procfs got the values: the init's oom_score_adj, and the
        # container's own network namespace's ip_forward.
        [[ $(cat /proc/$pid/oom_score_adj) == 500 ]]
        [[ $(nsenter -t "$pid" -n cat /proc/sys/net/ipv4/ip_forward) == 1 ]]
        invoke delete --force "$ID"
    fi
}

@test "CVE-2026-41579 [rootfs /dev a symlink to a canary folder: refused, the folder untouched]" {
    local canary_dir=$TEST_DIR/canary-dir
    mkdir -p "$canary_dir"
    echo "$ORIGINAL" >"$canary_dir/file"
    rm -rf "$BUNDLE/rootfs/dev"
    ln -s "$canary_dir" "$BUNDLE/rootfs/dev"
    cp "$BUNDLE/config.json" "$TEST_DIR/pristine.json"
    # With the usual tmpfs on /dev, and without any /dev mount (the runtime
    # makes /dev and its nodes itself).
    refuse_config 'tmpfs /dev' '/dev is a symlink' ''
    refuse_config 'no /dev mount' '/dev is a symlink' '.mounts |= map(select(.destination | startswith("/dev") | not))'
    echo "canary folder: $(ls -A "$canary_dir" | tr '\n' ' ')" >&2
    [[ $(ls -A "$canary_dir") == file ]]
    canary_untouched "$canary_dir/file"
    # Nothing was created in the rootfs under the symlink's target either.
    [[ ! -e $BUNDLE/rootfs$canary_dir ]]
    [[ ! -s $TEST_DIR/problems ]] || { cat "$TEST_DIR/problems" >&2; false; }
}
