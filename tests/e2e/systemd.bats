#!/usr/bin/env bats
# tether --systemd-cgroup against a real systemd: one booted by
# tests/e2e/systemd-host.sh in a Debian rootfs of its own under
# systemd-nspawn (never on the host's filesystem or cgroup mounts). tether
# and the bundles are bind-mounted into that machine read-only; every
# command runs inside it (systemd-host.sh exec), where systemctl sees the
# units tether makes.

load helpers

HOST=$E2E_DIR/systemd-host.sh
BUNDLES=$E2E_DIR/.cache/systemd-bundles
IN_BUNDLES=/opt/tether/src/tests/e2e/.cache/systemd-bundles
TETHER=/opt/tether/build/tether

sx() { bounded "$HOST" exec "$@"; }
# create (and run) leave the container's init holding the caller's stdio:
# through a file, so the caller's pipe reaches EOF; stderr is kept.
sx_create() {
    bounded "$HOST" exec sh -c '"$@" </dev/null >/dev/null 2>/run/create.err; rc=$?; cat /run/create.err >&2; exit $rc' sh "$@"
}

setup_file() {
    [[ $(id -u) -eq 0 ]] || skip "needs root (systemd-nspawn)"
    command -v systemd-nspawn >/dev/null || skip "systemd-nspawn is not installed (contrib/setup.sh installs systemd-container)"
    command -v mmdebstrap >/dev/null || skip "mmdebstrap is not installed (contrib/setup.sh installs it)"
    require_runtime
    export BUILD_DIR=$(dirname "$RUNTIME")
    # First run: the rootfs is built (about 75 s here), then cached.
    E2E_TIMEOUT=600 bounded "$HOST" start
    ensure_image
    rm -rf "$BUNDLES"
    mkdir -p "$BUNDLES/base"
    tar -C "$BUNDLES/base" --one-top-level=rootfs -xf "$IMAGE_CACHE/rootfs.tar"
    (cd "$BUNDLES/base" && "$RUNTIME" spec)
    jq '.process.args = ["sh", "-c", "trap \"exit 143\" TERM; while :; do sleep 1; done"] | .process.terminal = false' \
        "$BUNDLES/base/config.json" >"$BUNDLES/base/c" && mv "$BUNDLES/base/c" "$BUNDLES/base/config.json"
}

teardown_file() {
    "$HOST" stop || true
    rm -rf "$BUNDLES"
}

teardown() {
    local id
    for id in $(sx "$TETHER" list -q 2>/dev/null); do sx "$TETHER" delete --force "$id" >/dev/null 2>&1 || true; done
}

# bundle NAME JQ: a bundle like base with config.json edited by JQ; prints
# its path inside the machine.
bundle() {
    mkdir -p "$BUNDLES/$1"
    jq ".root.path = \"$IN_BUNDLES/base/rootfs\" | $2" "$BUNDLES/base/config.json" >"$BUNDLES/$1/config.json"
    echo "$IN_BUNDLES/$1"
}

show() { sx systemctl show --value -p "$2" "$1"; }

@test "systemd: create makes a scope unit in the slice with the translated limits" {
    b=$(bundle limits '.linux.cgroupsPath = "system.slice:tether:limits"
        | .linux.resources.memory.limit = 67108864 | .linux.resources.pids.limit = 50
        | .linux.resources.cpu.shares = 512 | .linux.resources.cpu.quota = 50000 | .linux.resources.cpu.period = 100000')
    run sx_create "$TETHER" --systemd-cgroup create --bundle "$b" limits
    assert_success
    [[ $(show tether-limits.scope ActiveState) == active ]]
    [[ $(show tether-limits.scope Slice) == system.slice ]]
    [[ $(show tether-limits.scope Delegate) == yes ]]
    [[ $(show tether-limits.scope MemoryLimit) == 67108864 ]]
    [[ $(show tether-limits.scope TasksMax) == 50 ]]
    [[ $(show tether-limits.scope CPUShares) == 512 ]]
    [[ $(show tether-limits.scope CPUQuotaPerSecUSec) == 500ms ]]
    # The kernel got them (this machine's systemd manages the v1 controllers).
    [[ $(sx cat /sys/fs/cgroup/memory/system.slice/tether-limits.scope/memory.limit_in_bytes) == 67108864 ]]
    [[ $(sx cat /sys/fs/cgroup/pids/system.slice/tether-limits.scope/pids.max) == 50 ]]
    pid=$(sx "$TETHER" state limits | jq .pid)
    run sx systemctl show --value -p MainPID -p ControlGroup tether-limits.scope
    assert_output --partial /system.slice/tether-limits.scope
    run sx cat /sys/fs/cgroup/systemd/system.slice/tether-limits.scope/cgroup.procs
    assert_output --partial "$pid"
}

@test "systemd: start, update, pause, resume, exec, ps and events work on the scope" {
    b=$(bundle verbs '.linux.cgroupsPath = "system.slice:tether:verbs" | .linux.resources.memory.limit = 67108864')
    sx_create "$TETHER" --systemd-cgroup create --bundle "$b" verbs
    sx "$TETHER" --systemd-cgroup start verbs
    run sx "$TETHER" --systemd-cgroup update --memory 128M --pids-limit 20 verbs
    assert_success
    [[ $(show tether-verbs.scope MemoryLimit) == 134217728 ]]
    [[ $(show tether-verbs.scope TasksMax) == 20 ]]
    [[ $(sx cat /sys/fs/cgroup/memory/system.slice/tether-verbs.scope/memory.limit_in_bytes) == 134217728 ]]
    sx "$TETHER" --systemd-cgroup pause verbs
    [[ $(sx "$TETHER" state verbs | jq -r .status) == paused ]]
    sx "$TETHER" --systemd-cgroup resume verbs
    [[ $(sx "$TETHER" state verbs | jq -r .status) == running ]]
    run sx "$TETHER" --systemd-cgroup exec verbs cat /proc/self/cgroup
    assert_success
    assert_output --partial "memory:/system.slice/tether-verbs.scope"
    run sx "$TETHER" --systemd-cgroup ps --format json verbs
    assert_success
    [[ $(jq length <<<"$output") -ge 1 ]]
    run sx "$TETHER" --systemd-cgroup events --stats verbs
    assert_success
    [[ $(jq '.data.memory.usage.limit' <<<"$output") == 134217728 ]]
}

@test "systemd: delete stops the unit and removes its cgroup" {
    b=$(bundle del '.linux.cgroupsPath = "system.slice:tether:del"')
    sx_create "$TETHER" --systemd-cgroup create --bundle "$b" del
    sx "$TETHER" --systemd-cgroup start del
    [[ $(show tether-del.scope ActiveState) == active ]]
    run sx "$TETHER" --systemd-cgroup delete --force del
    assert_success
    [[ $(show tether-del.scope LoadState) == not-found ]]
    run sx test -e /sys/fs/cgroup/systemd/system.slice/tether-del.scope
    assert_failure
    run sx test -e /sys/fs/cgroup/memory/system.slice/tether-del.scope
    assert_failure
}

@test "systemd: nested slices and org.systemd.property annotations" {
    b=$(bundle ann '.linux.cgroupsPath = "tether-e2e.slice:p:ann"
        | .annotations["org.systemd.property.TimeoutStopSec"] = "uint64 5"
        | .annotations["org.systemd.property.CollectMode"] = "'"'inactive-or-failed'"'"')
    run sx_create "$TETHER" --systemd-cgroup create --bundle "$b" ann
    assert_success
    [[ $(show p-ann.scope TimeoutStopUSec) == 5s ]]
    [[ $(show p-ann.scope CollectMode) == inactive-or-failed ]]
    [[ $(show p-ann.scope ControlGroup) == /tether.slice/tether-e2e.slice/p-ann.scope ]]
}

# refused CGROUPSPATH WORD [JQ]: create fails naming WORD, nothing is left.
refused() {
    b=$(bundle bad ".linux.cgroupsPath = \"$1\" ${3:-}")
    run sx_create "$TETHER" --systemd-cgroup create --bundle "$b" bad
    assert_failure
    assert_output --partial "$2"
    [[ -z $(sx "$TETHER" list -q) ]]
    [[ -z $(sx systemctl list-units --all --no-legend 'tether-bad*' '*-bad.scope') ]]
}

@test "systemd: bad cgroupsPath and annotations are refused naming the field, nothing left" {
    refused "a:b" "linux.cgroupsPath"
    refused "a:b:c:d" "linux.cgroupsPath"
    refused "system:tether:bad" 'does not end in ".slice"'
    refused "system.slice:tether:.." "linux.cgroupsPath"
    refused "system.slice:tether:bad" "org.systemd.property.TimeoutStopSec" \
        '| .annotations["org.systemd.property.TimeoutStopSec"] = "uint128 5"'
}

@test "systemd: an unreachable systemd is one error naming the bus; nothing is left" {
    b=$(bundle gone '.linux.cgroupsPath = "system.slice:tether:gone"')
    run sx_create env DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/nowhere "$TETHER" --systemd-cgroup create --bundle "$b" gone
    assert_failure
    assert_output --partial "unix:path=/run/nowhere"
    [[ -z $(sx "$TETHER" list -q) ]]
    [[ $(show tether-gone.scope LoadState) == not-found ]]
}

@test "systemd: features reports the systemd driver, not the user manager" {
    run "$RUNTIME" features
    assert_success
    [[ $(jq .linux.cgroup.systemd <<<"$output") == true ]]
    [[ $(jq .linux.cgroup.systemdUser <<<"$output") == false ]]
}
