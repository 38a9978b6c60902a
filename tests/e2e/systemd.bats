#!/usr/bin/env bats
# tether --systemd-cgroup against a real systemd: one booted by
# tests/e2e/systemd-host.sh in a Debian rootfs of its own under
# systemd-nspawn (never on the host's filesystem or cgroup mounts). tether
# and the bundles are bind-mounted into that machine read-only; every
# command runs inside it (systemd-host.sh exec), where systemctl sees the
# units tether makes.
#
# The clients run inside the machine too: podman with cgroup_manager =
# "systemd" (from the rootfs) and containerd 1.6 (the host's binaries,
# bind-mounted) as a service of the machine's systemd, its runc v2 shim
# given BinaryName = tether and SystemdCgroup = true by ctr.

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
    cp "$IMAGE_CACHE/rootfs.tar" "$IMAGE_CACHE/oci.tar" "$BUNDLES/"
    setup_podman
    setup_containerd
}

# podman inside the machine: the systemd cgroup manager (podman's default on
# a systemd host, written out here), tether as a runtime, vfs storage (the
# machine's root is an overlay), this machine's ulimits, no bridge network.
# The machine's /etc is a tmpfs overlay: nothing outlives it.
setup_podman() {
    sx sh -c 'mkdir -p /etc/containers && cat >/etc/containers/containers.conf' <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
netns = "none"

[engine]
cgroup_manager = "systemd"
events_logger = "file"
runtime_supports_json = ["crun", "runc", "tether"]

[engine.runtimes]
tether = ["$TETHER"]
EOF
    sx sh -c 'cat >/etc/containers/storage.conf' <<EOF
[storage]
driver = "vfs"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
EOF
    sx podman import -q "$IN_BUNDLES/rootfs.tar" "$IMAGE_NAME" >/dev/null
}

# containerd as a transient service of the machine's systemd (stopped with
# the machine), state on the machine's /run: overlayfs snapshots cannot sit
# on the overlay root. Skipped when the host has no containerd to lend.
CTRD=/run/tether-e2e-ctrd
setup_containerd() {
    sx sh -c 'command -v containerd && command -v ctr && command -v containerd-shim-runc-v2' >/dev/null || return 0
    sx sh -c "mkdir -p $CTRD && cat >$CTRD/config.toml" <<EOF
version = 2
root = "$CTRD/root"
state = "$CTRD/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CTRD/containerd.sock"
EOF
    sx systemd-run --quiet --unit=tether-e2e-containerd containerd --config "$CTRD/config.toml"
    retry_until 30 sx ctr --address "$CTRD/containerd.sock" version >/dev/null 2>&1 ||
        fail "containerd did not come up: $(sx journalctl -u tether-e2e-containerd | tail -n 20)"
    c image import "$IN_BUNDLES/oci.tar" >/dev/null
    touch "$BUNDLES/containerd"
}

c() { sx ctr --address "$CTRD/containerd.sock" -n tether-e2e "$@"; }
pm() { sx podman --runtime tether "$@"; }
# task_is ID STATUS: ctr lists task ID with STATUS (RUNNING, STOPPED...).
task_is() { [[ $(c task list | awk -v id="$1" '$1 == id {print $3}') == "$2" ]]; }

teardown_file() {
    "$HOST" stop || true
    rm -rf "$BUNDLES"
}

teardown() {
    local id
    pm rm -af -t 0 >/dev/null 2>&1 || true
    if [[ -f $BUNDLES/containerd ]]; then
        for id in $(c containers list -q 2>/dev/null); do
            c task kill -s SIGKILL "$id" >/dev/null 2>&1 || true
            c task delete -f "$id" >/dev/null 2>&1 || true
            c containers delete "$id" >/dev/null 2>&1 || true
        done
    fi
    stop_loopback_listeners
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

# The machine's layout: systemd's property names and the kernel's files
# differ between v1 (hybrid here: the host binds every controller to v1) and
# a unified v2 tree (a v2 host).
machine_unified() { [[ $(sx stat -f -c %T /sys/fs/cgroup) == cgroup2fs ]]; }
# The hierarchy where systemd tracks every unit's processes.
machine_tracking_dir() { machine_unified && echo /sys/fs/cgroup || echo /sys/fs/cgroup/systemd; }

# assert_scope_limits UNIT MEMORY PIDS: systemd shows the limits on the unit
# and wrote them into the kernel's files of the unit's cgroup.
assert_scope_limits() {
    local unit=$1 memory=$2 pids=$3 cg
    cg=$(show "$unit" ControlGroup)
    [[ -n $cg ]] || fail "$unit has no ControlGroup"
    [[ $(show "$unit" TasksMax) == "$pids" ]] || fail "TasksMax of $unit: $(show "$unit" TasksMax)"
    if machine_unified; then
        [[ $(show "$unit" MemoryMax) == "$memory" ]] || fail "MemoryMax of $unit: $(show "$unit" MemoryMax)"
        [[ $(sx cat "/sys/fs/cgroup$cg/memory.max") == "$memory" ]] || fail "memory.max of $cg"
        [[ $(sx cat "/sys/fs/cgroup$cg/pids.max") == "$pids" ]] || fail "pids.max of $cg"
    else
        [[ $(show "$unit" MemoryLimit) == "$memory" ]] || fail "MemoryLimit of $unit: $(show "$unit" MemoryLimit)"
        [[ $(sx cat "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes") == "$memory" ]] ||
            fail "memory.limit_in_bytes of $cg"
        [[ $(sx cat "/sys/fs/cgroup/pids$cg/pids.max") == "$pids" ]] || fail "pids.max of $cg"
    fi
}

# machine_listener: a TCP server on a free port of the machine's loopback
# (the host's python3 in the machine's network namespace) that accepts and
# closes; prints the port. stop_loopback_listeners ends it.
machine_listener() {
    loopback_listener_via "$HOST" netns
}

@test "systemd: create makes a scope unit in the slice with the translated limits" {
    b=$(bundle limits '.linux.cgroupsPath = "system.slice:tether:limits"
        | .linux.resources.memory.limit = 67108864 | .linux.resources.pids.limit = 50
        | .linux.resources.cpu.shares = 512 | .linux.resources.cpu.quota = 50000 | .linux.resources.cpu.period = 100000')
    run sx_create "$TETHER" --systemd-cgroup create --bundle "$b" limits
    assert_success
    [[ $(show tether-limits.scope ActiveState) == active ]]
    [[ $(show tether-limits.scope Slice) == system.slice ]]
    [[ $(show tether-limits.scope Delegate) == yes ]]
    [[ $(show tether-limits.scope CPUQuotaPerSecUSec) == 500ms ]]
    # The kernel got them (this machine's systemd manages the controllers).
    assert_scope_limits tether-limits.scope 67108864 50
    if machine_unified; then
        # runc's shares -> weight: 1 + (512 - 2) * 9999 / 262142.
        [[ $(show tether-limits.scope CPUWeight) == 20 ]]
        [[ $(sx cat /sys/fs/cgroup/system.slice/tether-limits.scope/cpu.weight) == 20 ]]
    else
        [[ $(show tether-limits.scope CPUShares) == 512 ]]
        [[ $(sx cat /sys/fs/cgroup/cpu/system.slice/tether-limits.scope/cpu.shares) == 512 ]]
    fi
    pid=$(sx "$TETHER" state limits | jq .pid)
    [[ $(show tether-limits.scope ControlGroup) == /system.slice/tether-limits.scope ]]
    run sx cat "$(machine_tracking_dir)/system.slice/tether-limits.scope/cgroup.procs"
    assert_output --partial "$pid"
}

@test "systemd: start, update, pause, resume, exec, ps and events work on the scope" {
    b=$(bundle verbs '.linux.cgroupsPath = "system.slice:tether:verbs" | .linux.resources.memory.limit = 67108864')
    sx_create "$TETHER" --systemd-cgroup create --bundle "$b" verbs
    sx "$TETHER" --systemd-cgroup start verbs
    run sx "$TETHER" --systemd-cgroup update --memory 128M --pids-limit 20 verbs
    assert_success
    assert_scope_limits tether-verbs.scope 134217728 20
    sx "$TETHER" --systemd-cgroup pause verbs
    [[ $(sx "$TETHER" state verbs | jq -r .status) == paused ]]
    sx "$TETHER" --systemd-cgroup resume verbs
    [[ $(sx "$TETHER" state verbs | jq -r .status) == running ]]
    run sx "$TETHER" --systemd-cgroup exec verbs cat /proc/self/cgroup
    assert_success
    assert_output --partial ":/system.slice/tether-verbs.scope"
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
    run sx test -e "$(machine_tracking_dir)/system.slice/tether-del.scope"
    assert_failure
    if ! machine_unified; then
        run sx test -e /sys/fs/cgroup/memory/system.slice/tether-del.scope
        assert_failure
    fi
}

# Without a pid namespace the init's exit leaves its children running in the
# scope: delete stops the unit, which kills them, and waits until it is gone.
@test "systemd: delete of a stopped container stops the unit with what is left in it" {
    b=$(bundle left '.linux.cgroupsPath = "system.slice:tether:left"
        | .linux.namespaces |= map(select(.type != "pid"))
        | .process.args = ["sh", "-c", "sleep 1000 & exit 0"]')
    sx_create "$TETHER" --systemd-cgroup create --bundle "$b" left
    sx "$TETHER" --systemd-cgroup start left
    retry_until 10 eval '[[ $(sx "$TETHER" state left | jq -r .status) == stopped ]]' || fail "left did not stop"
    [[ $(show tether-left.scope ActiveState) == active ]]
    [[ $(sx cat "$(machine_tracking_dir)/system.slice/tether-left.scope/cgroup.procs" | wc -l) -eq 1 ]]
    run sx "$TETHER" delete left
    assert_success
    [[ $(show tether-left.scope LoadState) == not-found ]]
    run sx test -e "$(machine_tracking_dir)/system.slice/tether-left.scope"
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

# ------------------------------------------------------------------ podman
SERVICE='trap "exit 143" TERM; while :; do sleep 1; done'

@test "systemd: podman (cgroup_manager systemd) runs a container in a libpod scope with its limits; rm removes the unit" {
    run pm run -d --memory 64m --pids-limit 50 --cpus 0.5 "$IMAGE_NAME" sh -c "$SERVICE"
    assert_success
    cid=${lines[-1]}
    unit=libpod-$cid.scope
    [[ $(show "$unit" ActiveState) == active ]]
    [[ $(show "$unit" Slice) == machine.slice ]]
    [[ $(show "$unit" Delegate) == yes ]]
    [[ $(show "$unit" CPUQuotaPerSecUSec) == 500ms ]]
    assert_scope_limits "$unit" 67108864 50
    # tether saved the scope: later verbs without --systemd-cgroup (podman's
    # cleanup delete --force has none) find it.
    [[ $(sx "$TETHER" state "$cid" | jq -r .status) == running ]]
    run pm exec "$cid" cat /proc/self/cgroup
    assert_success
    assert_output --partial "/machine.slice/$unit"
    run pm update --memory 128m --cpus 0.25 "$cid"
    assert_success
    assert_scope_limits "$unit" 134217728 50
    [[ $(show "$unit" CPUQuotaPerSecUSec) == 250ms ]]
    run pm pause "$cid"
    assert_success
    [[ $(sx "$TETHER" state "$cid" | jq -r .status) == paused ]]
    run pm unpause "$cid"
    assert_success
    run pm rm -f -t 2 "$cid"
    assert_success
    [[ $(show "$unit" LoadState) == not-found ]]
    [[ -z $(sx "$TETHER" list -q) ]]

    # A create that fails after the scope started: podman's exit code for a
    # missing command, no unit, no state.
    run -127 pm run --rm "$IMAGE_NAME" no-such-command
    [[ -z $(sx systemctl list-units --all --no-legend 'libpod-*') ]]
    [[ -z $(sx "$TETHER" list -q) ]]
}

# podman passes a device's host st_mode as fileMode (type bits included) and
# its cgroup rule becomes the scope's DeviceAllow.
@test "systemd: podman --device and --privileged: the device rule is on the scope and the node works" {
    run pm run -d --device /dev/null:/dev/tether-null "$IMAGE_NAME" sh -c "$SERVICE"
    assert_success
    cid=${lines[-1]}
    run show "libpod-$cid.scope" DeviceAllow
    assert_line "/dev/char/1:3 rwm"
    [[ $(show "libpod-$cid.scope" DevicePolicy) == strict ]]
    if ! machine_unified; then
        run sx cat "/sys/fs/cgroup/devices$(show "libpod-$cid.scope" ControlGroup)/devices.list"
        assert_line "c 1:3 rwm"
    fi
    run pm exec "$cid" sh -c 'echo x >/dev/tether-null && stat -c %a /dev/tether-null'
    assert_success
    assert_output 666
    run pm run --rm --privileged "$IMAGE_NAME" sh -c 'test -c /dev/null && echo privileged'
    assert_success
    assert_output privileged
}

# The policy through podman on the systemd driver: the kernel's socket
# programs sit on the scope's cgroup2 folder, which systemd made.
@test "systemd: podman sandboxes (host network, --network none) reach the listed machine loopback port only" {
    local listed unlisted net
    listed=$(machine_listener)
    unlisted=$(machine_listener)
    # Without a policy both ports answer on the host network: the refusals
    # below come from the sandbox.
    run pm run --rm --network host "$IMAGE_NAME" sh -c "$(sandbox_probe_cmd "$listed" "$unlisted")"
    assert_probe_reached_both
    for net in host none; do
        run pm run --rm --network "$net" --annotation run.tether.network.allowLocalOutboundPorts="$listed" \
            "$IMAGE_NAME" sh -c "$(sandbox_probe_cmd "$listed" "$unlisted")"
        assert_probe_reached_listed_only
    done
    [[ -z $(sx systemctl list-units --all --no-legend 'libpod-*') ]]
}

# --------------------------------------------------------------- containerd
@test "systemd: containerd's runc v2 shim (SystemdCgroup, BinaryName tether) runs a container in its scope" {
    [[ -f $BUNDLES/containerd ]] || skip "the host has no containerd, ctr and containerd-shim-runc-v2 to lend"
    local ctr_run=(run --runc-binary "$TETHER" --runc-systemd-cgroup)
    run c "${ctr_run[@]}" --cgroup system.slice:tether-ctrd:svc --memory-limit 67108864 -d \
        "$IMAGE_NAME" svc sh -c "$SERVICE"
    assert_success
    retry_until 20 task_is svc RUNNING || fail "svc is not running"
    [[ $(show tether-ctrd-svc.scope ActiveState) == active ]]
    [[ $(show tether-ctrd-svc.scope Slice) == system.slice ]]
    if machine_unified; then
        [[ $(show tether-ctrd-svc.scope MemoryMax) == 67108864 ]]
    else
        [[ $(show tether-ctrd-svc.scope MemoryLimit) == 67108864 ]]
    fi
    run c task exec --exec-id probe svc cat /proc/self/cgroup
    assert_success
    assert_output --partial /system.slice/tether-ctrd-svc.scope
    run c task ps svc
    assert_success
    [[ ${#lines[@]} -ge 2 ]]
    run c task pause svc
    assert_success
    run c task resume svc
    assert_success
    c task kill svc
    retry_until 20 task_is svc STOPPED || fail "svc did not stop"
    c task delete svc >/dev/null
    c containers delete svc
    [[ $(show tether-ctrd-svc.scope LoadState) == not-found ]]

    run c "${ctr_run[@]}" --cgroup system.slice:tether-ctrd:once --rm "$IMAGE_NAME" once sh -c 'echo out; exit 7'
    assert_equal "$status" 7
    assert_output out
    [[ $(show tether-ctrd-once.scope LoadState) == not-found ]]

    # A create that fails after the scope started leaves no unit.
    run c "${ctr_run[@]}" --cgroup system.slice:tether-ctrd:bad --rm "$IMAGE_NAME" bad no-such-command
    assert_failure
    assert_output --partial "executable file not found"
    [[ $(show tether-ctrd-bad.scope LoadState) == not-found ]]
}
