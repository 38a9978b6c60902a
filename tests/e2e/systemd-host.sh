#!/usr/bin/env bash
# systemd-host.sh — a real systemd for the systemd-cgroup tests, never the host's.
#
# The test machine does not run systemd as PID 1, and a systemd booted on the
# host's own filesystem empties /tmp (systemd-tmpfiles), remounts
# /sys/fs/cgroup read-only and leaves cgroup folders behind. So systemd boots
# in a Debian rootfs of its own (mmdebstrap, cached in tests/e2e/.cache) under
# systemd-nspawn: its own mount namespace, /tmp, /var, /run and cgroup tree.
# tether's build directory and the repository are bind-mounted read-only.
#
#   systemd-host.sh build          make the rootfs if it is missing (cached)
#   systemd-host.sh start          build, boot, wait until systemd is up
#   systemd-host.sh exec CMD...    run CMD inside (all of the machine's namespaces)
#   systemd-host.sh netns CMD...   run the host's CMD in the machine's network
#                                  namespace only (a host python3 as a listener
#                                  on the machine's loopback)
#   systemd-host.sh stop           power off, wait, kill what remains
#   systemd-host.sh status         exit 0 when the machine is running
#
# Environment: BUILD_DIR (default <repo>/build), SYSTEMD_ROOTFS (default
# tests/e2e/.cache/systemd-rootfs), SYSTEMD_MACHINE (default tether-systemd).
# Packages on the host: mmdebstrap, systemd-container (contrib/setup.sh).
#
# podman, conmon and crun are in the rootfs (podman needs its helpers and
# libraries at matching versions). containerd, ctr and the runc v2 shim are
# the host's own binaries (only libc, the same bookworm glibc as the rootfs),
# bind-mounted read-only into /usr/local/bin when the host has them: the
# containerd under test is the one the other e2e files test.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build_dir=$(readlink -f "${BUILD_DIR:-$repo/build}")
cache=$repo/tests/e2e/.cache
rootfs=${SYSTEMD_ROOTFS:-$cache/systemd-rootfs}
machine=${SYSTEMD_MACHINE:-tether-systemd}
run_dir=$cache/$machine.run
# What the tests run inside: systemd and its bus, podman and its helpers.
# Changing this list rebuilds the rootfs (the list is its cache key).
packages=systemd,systemd-sysv,dbus,libsystemd0,podman,conmon,crun,golang-github-containers-common

die() { echo "systemd-host.sh: $*" >&2; exit 1; }

build() {
    [[ -f $rootfs/.tether-packages ]] && [[ $(<"$rootfs/.tether-packages") == "$packages" ]] && return 0
    command -v mmdebstrap >/dev/null || die "mmdebstrap is not installed (contrib/setup.sh installs it)"
    rm -rf "$rootfs" "$rootfs.new"
    mkdir -p "$cache"
    local start=$SECONDS
    # The same suites as the host, so the rootfs's systemd matches the host's.
    mmdebstrap --quiet --variant=apt --include="$packages" \
        --customize-hook='echo tether-systemd >"$1/etc/hostname"' \
        --customize-hook='rm -f "$1"/etc/machine-id; : >"$1"/etc/machine-id' \
        bookworm "$rootfs.new" \
        "deb http://deb.debian.org/debian bookworm main" \
        "deb http://deb.debian.org/debian bookworm-updates main" \
        "deb http://deb.debian.org/debian-security bookworm-security main" >&2
    echo "$packages" >"$rootfs.new/.tether-packages"
    mv "$rootfs.new" "$rootfs"
    echo "systemd-host.sh: rootfs built in $((SECONDS - start))s" >&2
}

nspawn_pid() { [[ -f $run_dir/nspawn.pid ]] && cat "$run_dir/nspawn.pid"; }

# PID 1 of the machine, seen from the host: nspawn's only child.
leader() {
    local pid
    pid=$(nspawn_pid) || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    pgrep -P "$pid" | head -n1
}

status() { [[ -n $(leader 2>/dev/null) ]]; }

in_machine() {
    local l
    l=$(leader) || die "machine $machine is not running"
    [[ -n $l ]] || die "machine $machine is not running"
    # Every namespace of the machine; PATH and a clean environment of its own.
    nsenter -t "$l" -m -u -i -n -p -C -r -w \
        env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
        TERM=dumb "$@"
}

# The host's CMD in the machine's network namespace only (its filesystem is
# the host's).
in_netns() {
    local l
    l=$(leader) || die "machine $machine is not running"
    [[ -n $l ]] || die "machine $machine is not running"
    exec nsenter -t "$l" -n "$@"
}

start() {
    build
    status && return 0
    command -v systemd-nspawn >/dev/null || die "systemd-nspawn is not installed (systemd-container)"
    [[ -x $build_dir/tether ]] || die "no tether in $build_dir (build it first)"
    rm -rf "$run_dir"
    mkdir -p "$run_dir"
    # There is no host systemd or machined to ask for a scope (--register=no,
    # --keep-unit), so nspawn stays in the cgroup it starts in: a folder of
    # our own in every hierarchy, removed again by stop.
    local dirs=() m
    for m in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
        [[ -e ${m}cgroup.procs ]] && dirs+=("$m$machine")
    done
    mkdir -p "${dirs[@]}"
    printf '%s\n' "${dirs[@]}" >"$run_dir/cgroups"
    local binds=() b
    for b in containerd ctr containerd-shim-runc-v2; do
        b=$(command -v "$b" 2>/dev/null) && binds+=("--bind-ro=$(readlink -f "$b"):/usr/local/bin/${b##*/}")
    done
    # --volatile=overlay: the machine's writes go to a tmpfs, the cached
    # rootfs stays clean. --bind-ro: the tether under test, not a copy.
    # --system-call-filter=@keyring: nspawn's filter answers keyctl with
    # EPERM (keyrings are not namespaced), and a runtime's session keyring
    # (runc's and ours) fails on EPERM; a real host allows it.
    CGROUP_DIRS="${dirs[*]}" setsid sh -c 'for d in $CGROUP_DIRS; do echo $$ >"$d/cgroup.procs"; done; exec "$@"' sh \
        systemd-nspawn --quiet --boot --register=no --keep-unit \
        --machine="$machine" --directory="$rootfs" --private-network \
        --volatile=overlay \
        --bind-ro="$build_dir:/opt/tether/build" --bind-ro="$repo:/opt/tether/src" "${binds[@]}" \
        --system-call-filter=@keyring \
        </dev/null >"$run_dir/console.log" 2>&1 &
    echo $! >"$run_dir/nspawn.pid"
    local i state=""
    for ((i = 0; i < 300; i++)); do
        if status; then
            state=$(in_machine systemctl is-system-running 2>/dev/null || true)
            case $state in running | degraded) enable_controllers; return 0 ;; esac
        elif ! kill -0 "$(nspawn_pid)" 2>/dev/null; then
            cat "$run_dir/console.log" >&2
            stop
            die "systemd-nspawn exited while booting (log above)"
        fi
        sleep 0.2
    done
    stop
    die "systemd did not come up within 60s (state: ${state:-unknown}); see $run_dir/console.log"
}

# nspawn mounts the host's v1 controllers read-only in the machine (only
# name=systemd and cgroup2 are its own), so its systemd manages no controller:
# MemoryLimit= would be accepted and never reach memory.limit_in_bytes. The
# machine's mounts are rooted at its own cgroup folder: make them writable in
# the machine's mount namespace only, then let systemd look again.
enable_controllers() {
    local m
    for m in $(in_machine awk '$3 == "cgroup" && $4 ~ /^ro,/ {print $2}' /proc/self/mounts); do
        in_machine mount -o remount,bind,rw "$m"
    done
    in_machine systemctl daemon-reexec
    local i
    for ((i = 0; i < 100; i++)); do
        case $(in_machine systemctl is-system-running 2>/dev/null || true) in running | degraded) return 0 ;; esac
        sleep 0.1
    done
    die "systemd did not come back after daemon-reexec"
}

stop() {
    local pid i
    pid=$(nspawn_pid 2>/dev/null) || return 0
    if kill -0 "$pid" 2>/dev/null; then
        # nspawn turns SIGTERM into a clean poweroff of the machine's systemd.
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 150; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -0 "$pid" 2>/dev/null && kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$run_dir/nspawn.pid"
    # The machine's cgroups, deepest first (what its systemd left inside).
    if [[ -f $run_dir/cgroups ]]; then
        local d
        while read -r d; do
            [[ -d $d ]] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
            [[ -d $d ]] && echo "systemd-host.sh: could not remove $d" >&2
        done <"$run_dir/cgroups"
        rm -f "$run_dir/cgroups"
    fi
    return 0
}

case ${1:-} in
    build) build ;;
    start) start ;;
    stop) stop ;;
    status) status ;;
    exec) shift; in_machine "$@" ;;
    netns) shift; in_netns "$@" ;;
    *) sed -n '2,29p' "$0" >&2; exit 2 ;;
esac
