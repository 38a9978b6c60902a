#!/usr/bin/env bash
# Shared helpers for the end-to-end tests: real podman, containerd and Docker
# driving tether, each with private storage, state and sockets so that the
# host's own client configuration and containers are never touched.
#
# Every .bats file here owns one client. Its setup_file starts what the client
# needs (a private containerd or dockerd, a test user) and imports the busybox
# image built below; its teardown_file stops and removes all of it, also after
# failures. Tests never pull from a registry and never use a bridge network.
#
# Environment:
#   RUNTIME        the tether binary under test (default <repo>/build/tether)
#   E2E_TIMEOUT    bound for one client command, seconds (default 60)

bats_require_minimum_version 1.5.0

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$E2E_DIR/../.." && pwd)
RUNTIME=${RUNTIME:-$REPO_ROOT/build/tether}
RUNTIME=$(readlink -f "$(command -v "$RUNTIME" || echo "$RUNTIME")")
E2E_TIMEOUT=${E2E_TIMEOUT:-60}

# The image every client runs: a busybox rootfs (contrib/make-busybox-bundle.sh)
# as a plain tar (podman import, docker import) and as an OCI image archive
# (ctr image import). Built once per bats run.
IMAGE_CACHE=${BATS_RUN_TMPDIR:-/tmp}/e2e-image
IMAGE_NAME=localhost/tether-e2e-busybox:latest

# The container's long-running process: pid 1 ignores SIGTERM without a
# handler, so it traps TERM to stop like a service would.
SERVICE_CMD=(sh -c 'trap "exit 143" TERM; while :; do sleep 1; done')

require_runtime() {
    [[ -x $RUNTIME ]] || {
        echo "runtime under test not found: $RUNTIME (build it first)" >&2
        return 1
    }
}

# require_client CMD...: skip the whole file when a client is not installed
# (contrib/setup.sh installs them, so on CI they are there).
require_client() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null || skip "$c is not installed (contrib/setup.sh installs it)"
    done
}

# ensure_image: $IMAGE_CACHE/rootfs.tar and $IMAGE_CACHE/oci.tar.
ensure_image() {
    [[ -f $IMAGE_CACHE/.done ]] && return 0
    mkdir -p "$(dirname "$IMAGE_CACHE")"
    (
        flock 9
        if [[ ! -f $IMAGE_CACHE/.done ]]; then
            rm -rf "$IMAGE_CACHE"
            mkdir -p "$IMAGE_CACHE"
            ROOTFS_ONLY=1 "$REPO_ROOT/contrib/make-busybox-bundle.sh" "$IMAGE_CACHE/bundle" >&2
            # Numeric owners: the rootfs must not depend on the host's names.
            tar --numeric-owner -C "$IMAGE_CACHE/bundle/rootfs" -cf "$IMAGE_CACHE/rootfs.tar" .
            "$E2E_DIR/make-oci-archive.sh" "$IMAGE_CACHE/rootfs.tar" "$IMAGE_CACHE/oci.tar" "$IMAGE_NAME"
            rm -rf "$IMAGE_CACHE/bundle"
            touch "$IMAGE_CACHE/.done"
        fi
    ) 9>"$IMAGE_CACHE.lock"
}

# json_array ARGS...: the arguments as a JSON array of strings (jq's --args
# would take an argument such as -c as its own option).
json_array() {
    local a out='[]'
    for a in "$@"; do out=$(jq -c --arg a "$a" '. + [$a]' <<<"$out"); done
    echo "$out"
}

# bounded CMD...: run CMD with a timeout, so a wedged client fails the test
# instead of hanging the suite.
bounded() {
    timeout -k 10 "$E2E_TIMEOUT" "$@"
}

# retry_until SECONDS CMD...: poll until CMD succeeds. A bound, not a timing
# assertion: a slow machine only waits longer.
retry_until() {
    local limit=$1 i
    shift
    for ((i = 0; i < limit * 5; i++)); do
        "$@" && return 0
        sleep 0.2
    done
    return 1
}

# pid_alive PID: the process exists and is not a zombie.
pid_alive() {
    [[ -d /proc/$1 ]] && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]
}

# stop_pid PID [SECONDS]: SIGTERM a daemon we started, SIGKILL if it lingers.
stop_pid() {
    local pid=$1 limit=${2:-20}
    [[ $pid =~ ^[1-9][0-9]*$ ]] || return 0
    pid_alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    retry_until "$limit" eval "! pid_alive $pid" && return 0
    kill -KILL "$pid" 2>/dev/null || true
    retry_until 10 eval "! pid_alive $pid" || true
}

# unmount_under DIR: lazily unmount everything mounted below DIR (deepest
# first), so that rm -rf never walks into a live mount.
unmount_under() {
    local dir=$1 m
    [[ -n $dir && -d $dir ]] || return 0
    while read -r m; do
        umount -l "$m" 2>/dev/null || true
    done < <(awk -v d="$dir/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r)
}

# tether_state ROOT ID: `tether state` as the runtime itself reports it.
tether_state() {
    "$RUNTIME" --root "$1" state "$2"
}

# host_netns: the network namespace of this shell (for --network host).
host_netns() {
    readlink /proc/self/ns/net
}

# cgroup_dirs_before NAME: remember whether a top-level cgroup NAME exists in
# each hierarchy, so teardown removes only what the clients created.
cgroup_snapshot() {
    local name=$1 out=$2 d
    : >"$out"
    for d in /sys/fs/cgroup/*/"$name" /sys/fs/cgroup/"$name"; do
        [[ -d $d ]] && echo "$d" >>"$out"
    done
    return 0
}

# remove_new_cgroups NAME SNAPSHOT: rmdir (empty, deepest first) the cgroups
# named NAME that did not exist in SNAPSHOT.
remove_new_cgroups() {
    local name=$1 snapshot=$2 d
    for d in /sys/fs/cgroup/*/"$name" /sys/fs/cgroup/"$name"; do
        [[ -d $d ]] || continue
        grep -qxF "$d" "$snapshot" 2>/dev/null && continue
        find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    done
}

# ---------------------------------------------------------------- sandboxes
# start_loopback_listener [NETNS]: a TCP server on a free 127.0.0.1 port that
# accepts and closes; prints the port. In the network namespace NETNS (a
# /proc/<pid>/ns/net path: rootless Docker's "host" is rootlesskit's
# namespace), else in this shell's. Its pid goes to
# $BATS_TEST_TMPDIR/listeners, which stop_loopback_listeners ends.
start_loopback_listener() {
    local enter=()
    [[ -n ${1:-} ]] && enter=(nsenter "--net=$1")
    loopback_listener_via "${enter[@]}"
}

# loopback_listener_via [CMD...]: start_loopback_listener's server, its
# python3 run through CMD (a command that enters another network namespace,
# or none); prints the port.
loopback_listener_via() {
    local ready=$BATS_TEST_TMPDIR/listener.$RANDOM
    "$@" python3 -c '
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
while True:
    s.accept()[0].close()
' "$ready" </dev/null >/dev/null 2>&1 3>&- &
    echo $! >>"$BATS_TEST_TMPDIR/listeners"
    retry_until 10 test -s "$ready" || return 1
    cat "$ready"
}

stop_loopback_listeners() {
    local pid
    [[ -f $BATS_TEST_TMPDIR/listeners ]] || return 0
    while read -r pid; do stop_pid "$pid"; done <"$BATS_TEST_TMPDIR/listeners"
    rm -f "$BATS_TEST_TMPDIR/listeners"
}

# ---------------------------------------------------------------- containerd
# new_private_containerd_dir NAME: a fresh $CTRD_DIR and its socket path
# $CTRD_SOCK, both exported, for a containerd of the test's own. Unix socket
# paths are short (108 bytes): under /tmp, not under BATS_FILE_TMPDIR.
new_private_containerd_dir() {
    CTRD_DIR=$(mktemp -d "/tmp/tether-e2e-$1.XXXXXX")
    echo "$CTRD_DIR" >"$BATS_FILE_TMPDIR/ctrd-dir"
    export CTRD_DIR CTRD_SOCK=$CTRD_DIR/containerd.sock
}

# find_private_containerd: CTRD_DIR and CTRD_SOCK again, in teardown_file;
# false when setup_file made no directory.
find_private_containerd() {
    local dir
    dir=$(cat "$BATS_FILE_TMPDIR/ctrd-dir" 2>/dev/null) || return 1
    [[ -d $dir ]] || return 1
    CTRD_DIR=$dir CTRD_SOCK=$dir/containerd.sock
}

# start_private_containerd READY-CMD...: a containerd on $CTRD_DIR/config.toml
# (its log and pid in $CTRD_DIR), waited for until READY-CMD succeeds.
start_private_containerd() {
    containerd --config "$CTRD_DIR/config.toml" </dev/null >"$CTRD_DIR/containerd.log" 2>&1 3>&- &
    echo $! >"$CTRD_DIR/containerd.pid"
    retry_until 30 "$@" >/dev/null 2>&1 ||
        fail "containerd did not come up: $(tail -n 20 "$CTRD_DIR/containerd.log")"
}

# stop_private_containerd: stops the containerd of start_private_containerd
# and the shims that name its socket $CTRD_SOCK, then removes $CTRD_DIR.
stop_private_containerd() {
    local pid
    stop_pid "$(cat "$CTRD_DIR/containerd.pid" 2>/dev/null)"
    # Shims outlive containerd by design; ours name our socket.
    for pid in $(grep -lsF -- "$CTRD_SOCK" /proc/[0-9]*/cmdline | cut -d/ -f3); do
        stop_pid "$pid" 5
    done
    unmount_under "$CTRD_DIR"
    rm -rf "$CTRD_DIR"
}

# ---------------------------------------------------------------- docker
# d ARGS...: the docker client ($DOCKER_CLI) of docker.bats and
# docker-rootless.bats, bounded.
d() {
    bounded "$DOCKER_CLI" "$@"
}

remove_docker_containers() {
    local ids
    ids=$(bounded "$DOCKER_CLI" ps -aq 2>/dev/null) || return 0
    [[ -z $ids ]] || bounded "$DOCKER_CLI" rm -f $ids >/dev/null 2>&1 || true
}

# The command a sandboxed e2e container runs: connect to two host loopback
# ports with busybox nc, then print its seccomp filter count (the closures
# add one; the supervisor fallback would add a notify filter too).
sandbox_probe_cmd() {
    echo "echo | nc 127.0.0.1 $1 && echo reached-listed; echo | nc 127.0.0.1 $2 2>&1 | tail -n1; grep '^Seccomp_filters:' /proc/self/status"
}

# assert_probe_reached_both / assert_probe_reached_listed_only: the
# sandbox_probe_cmd just run succeeded, and both of its ports answered (the
# control, without a policy) or only the listed one did.
assert_probe_reached_both() {
    assert_success
    assert_line reached-listed
    refute_line --partial "Connection refused"
}
assert_probe_reached_listed_only() {
    assert_success
    assert_line reached-listed
    assert_line --partial "Connection refused"
}

# ---------------------------------------------------------- rootless users
# The rootless tests (podman-rootless.bats, docker-rootless.bats) each make a
# user of their own with subordinate id ranges, and remove all of it after.

# require_user_namespaces: skip, saying so, when the kernel does not let an
# unprivileged user make a user namespace (what every rootless client needs).
require_user_namespaces() {
    setpriv --reuid=65534 --regid=65534 --clear-groups unshare --user true 2>/dev/null ||
        skip "the kernel forbids unprivileged user namespaces (unshare --user as nobody failed: see user.max_user_namespaces, kernel.unprivileged_userns_clone)"
}

# add_test_user NAME HOME SUBID_START: the account (home not created, no
# subordinate ids from useradd) and 65536 subordinate uids and gids from
# SUBID_START. Choose SUBID_START far above what useradd hands out
# (100000 + 65536 * n) so the ranges overlap nobody's.
add_test_user() {
    local name=$1 home=$2 start=$3 f
    useradd --no-create-home --home-dir "$home" --shell /bin/sh \
        --key SUB_UID_COUNT=0 --key SUB_GID_COUNT=0 "$name"
    for f in /etc/subuid /etc/subgid; do
        echo "$name:$start:65536" >>"$f"
    done
}

# remove_test_user NAME: its processes (podman's pause process, conmon,
# rootlesskit and dockerd), the account, and its subordinate id ranges.
remove_test_user() {
    local name=$1 uid pid f
    if uid=$(id -u "$name" 2>/dev/null); then
        for pid in $(awk -v u="$uid" '/^Uid:/ && $2 == u {print FILENAME}' /proc/[0-9]*/status 2>/dev/null | cut -d/ -f3); do
            kill -KILL "$pid" 2>/dev/null || true
        done
        userdel "$name" >/dev/null 2>&1 || true
    fi
    for f in /etc/subuid /etc/subgid; do
        [[ -f $f ]] && sed -i "/^$name:/d" "$f"
    done
}

# ------------------------------------------------------------------ podman
# What the root and the rootless podman tests configure alike.

# podman_test_settings EVENTS_LOG: the [containers] and [engine] settings of
# every podman of these tests: this machine's hard limits (no
# CAP_SYS_RESOURCE, nofile 20000), no network namespace unless a test asks,
# cgroupfs, and an events log of the test's own.
podman_test_settings() {
    cat <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
netns = "none"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$1"
EOF
}

# tether_podman_snippet RUNTIME: contrib/podman/tether.conf, the snippet a
# user installs, naming RUNTIME instead of the installed paths.
tether_podman_snippet() {
    sed -e '/^ *"\/usr\/.*bin\/tether",$/d' -e "s|^tether = \[\$|tether = [\"$1\",|" \
        "$REPO_ROOT/contrib/podman/tether.conf"
}

# write_podman_storage_conf FILE DIR: storage.conf for a private store in DIR
# (vfs: no overlay mounts to leave behind).
write_podman_storage_conf() {
    cat >"$1" <<EOF
[storage]
driver = "vfs"
runroot = "$2/runroot"
graphroot = "$2/graphroot"
EOF
}
