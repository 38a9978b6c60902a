#!/usr/bin/env bash
# Shared helpers for the bats integration tests (modelled on runc's
# tests/integration/helpers.bash).
#
# Every test gets:
#   - its own busybox bundle in $BUNDLE (a copy of a rootfs built once per run),
#   - its own state root in $ROOT, passed to the runtime with --root,
#   - a unique container id in $ID (ids are remembered for teardown),
#   - a teardown that force-deletes every container it created and then fails
#     the test if anything is left: state dir entries, mounts under the
#     test's directory, processes started from the bundle, cgroups.
#
# Environment:
#   RUNTIME   the runtime under test (default: <repo>/build/tether). Use
#             RUNTIME=runc to check the tests themselves against runc.

bats_require_minimum_version 1.5.0

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

INTEGRATION_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$INTEGRATION_ROOT/../.." && pwd)
RUNTIME=${RUNTIME:-$REPO_ROOT/build/tether}
RUNTIME=$(command -v "$RUNTIME" || echo "$RUNTIME")
RUNTIME_NAME=$(basename "$RUNTIME")

# Upper bound for any single runtime call: a hung runtime fails the test
# instead of hanging the suite.
RUNTIME_TIMEOUT=${RUNTIME_TIMEOUT:-30}

# The python3 that host-side servers and clients run with ("" when there is
# none: the tests that need it skip).
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}

# The rootfs is built once per bats run (BATS_RUN_TMPDIR is shared by all
# test files of one run) and copied into each test's bundle.
ROOTFS_CACHE=${ROOTFS_CACHE:-${BATS_RUN_TMPDIR:-/tmp}/busybox-cache}

# A container's init is pid 1 in its pid namespace and ignores signals it
# has no handler for, so the default process traps TERM: "kill ID" (SIGTERM)
# then stops it like it would stop a real service.
DEFAULT_ARGS='["sh","-c","trap \"exit 143\" TERM; sleep 3600 & wait"]'

# ---------------------------------------------------------------- bundles

ensure_rootfs_cache() {
    [[ -f $ROOTFS_CACHE/.done ]] && return 0
    mkdir -p "$(dirname "$ROOTFS_CACHE")"
    (
        # Parallel bats jobs must not build the cache twice.
        flock 9
        if [[ ! -f $ROOTFS_CACHE/.done ]]; then
            rm -rf "$ROOTFS_CACHE"
            mkdir -p "$ROOTFS_CACHE"
            SPEC_RUNTIME=runc "$REPO_ROOT/contrib/make-busybox-bundle.sh" "$ROOTFS_CACHE" >&2
            touch "$ROOTFS_CACHE/.done"
        fi
    ) 9>"$ROOTFS_CACHE.lock"
}

# setup_bundle: fresh bundle in $BUNDLE, state root in $ROOT, id in $ID.
# The config is runc's `spec` defaults with terminal=false, a writable-by-
# config rootfs path "rootfs", a marker in the process env (to find leaked
# processes) and DEFAULT_ARGS.
setup_bundle() {
    ensure_rootfs_cache
    TEST_DIR=${BATS_TEST_TMPDIR:?bats >= 1.4 required}
    BUNDLE=$TEST_DIR/bundle
    ROOT=$TEST_DIR/root
    mkdir -p "$BUNDLE" "$ROOT"
    cp -a "$ROOTFS_CACHE/rootfs" "$BUNDLE/rootfs"
    CONTAINER_MARK="TETHER_TEST_MARK=${BATS_SUITE_TEST_NUMBER:-0}-$$-$RANDOM"
    jq --argjson args "$DEFAULT_ARGS" --arg mark "$CONTAINER_MARK" \
        '.process.args = $args | .process.env += [$mark]' \
        "$ROOTFS_CACHE/config.json" >"$BUNDLE/config.json"
    ID=$(new_id)
    CREATED_IDS=()
}

# new_id: a container id unique to this test (cgroups are named after it,
# so a leak from an earlier test can never be mistaken for this test's).
new_id() {
    echo "t${BATS_SUITE_TEST_NUMBER:-0}-$$-$RANDOM"
}

# update_config 'JQ EXPR' [BUNDLE]: edit config.json in place.
update_config() {
    local bundle=${2:-$BUNDLE} tmp
    tmp=$(mktemp "$bundle/config.json.XXXXXX")
    jq "$1" "$bundle/config.json" >"$tmp" || { rm -f "$tmp"; return 1; }
    mv "$tmp" "$bundle/config.json"
}

# set_args ARG...: the container's process.args.
set_args() {
    local json='[]' a
    for a in "$@"; do
        json=$(jq -cn --argjson acc "$json" --arg a "$a" '$acc + [$a]')
    done
    update_config ".process.args = $json"
}

# ---------------------------------------------------------------- runtime

# Remember ids passed to create/run so that teardown deletes them even if
# the runtime's state dir lost track of them.
_record_id() {
    local verb=$1 last=${*: -1}
    case $verb in
        create | run)
            CREATED_IDS+=("$last")
            # Also on disk: a test may run the runtime in a subshell.
            printf '%s\n' "$last" >>"$TEST_DIR/ids" ;;
    esac
}

# After a successful create / run -d, remember the init's pid and start time
# (field 22 of /proc/PID/stat, so a reused pid is not mistaken for it):
# before `start` the init has not exec'd the bundle's process yet, so the
# environment marker cannot find it.
_record_init_pid() {
    local verb=$1 id=$2 bin=$3 root=$4 pid start
    [[ $verb == create || $verb == run ]] || return 0
    pid=$(timeout 10 "$bin" --root "$root" state "$id" 2>/dev/null | jq -r '.pid // empty' 2>/dev/null)
    [[ $pid =~ ^[1-9][0-9]*$ ]] || return 0
    start=$(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null) || return 0
    echo "$pid $start" >>"$TEST_DIR/init-pids"
}

# _live_init_pids: recorded inits that still exist (zombies count as gone).
_live_init_pids() {
    [[ -f ${TEST_DIR:-}/init-pids ]] || return 0
    local pid start
    while read -r pid start; do
        [[ $(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null) == "$start" ]] || continue
        [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]] && continue
        echo "$pid"
    done <"$TEST_DIR/init-pids"
}

# _verb ARGS...: the first argument that is not a global flag.
_verb() {
    while [[ $# -gt 0 ]]; do
        case $1 in
            --root | --log | --log-format | --default-policy | --proxy-request-head-timeout | --proxy-idle-timeout) shift 2 ;;
            -*) shift ;;
            *) echo "$1"; return ;;
        esac
    done
}

# _is_detaching ARGS...: true for verbs whose container keeps running after
# the runtime returns; their stdio becomes the container's stdio.
_is_detaching() {
    local verb
    verb=$(_verb "$@")
    [[ $verb == create ]] && return 0
    if [[ $verb == run ]]; then
        local a
        for a in "$@"; do [[ $a == -d || $a == --detach ]] && return 0; done
    fi
    return 1
}

# runtime_bin BIN ROOT ARGS...: run a runtime with bats' `run`, under a
# timeout. For create and run --detach the container inherits the runtime's
# stdout/stderr, which would keep bats' capture pipe open for the container's
# whole life; their output goes to $TEST_DIR/<id>.out (runtime messages and
# container output, as podman's conmon sees them) and $output holds it.
runtime_bin() {
    local bin=$1 root=$2
    shift 2
    _record_id "$(_verb "$@")" "$@"
    mkdir -p "$root"
    # Kept beside the root, not in it: the root belongs to the runtime.
    echo "$bin" >"$root.bin"
    # The redirections must happen inside `run` (bats captures with $(...)),
    # so they live in the two small functions below.
    if _is_detaching "$@"; then
        local out
        out=$(_output_file "${*: -1}")
        run _call_detached "$out" timeout -k 5 "$RUNTIME_TIMEOUT" "$bin" --root "$root" "$@"
        output=$(cat "$out")
    else
        run _call timeout -k 5 "$RUNTIME_TIMEOUT" "$bin" --root "$root" "$@"
    fi
    [[ $status -ne 0 ]] || _record_init_pid "$(_verb "$@")" "${*: -1}" "$bin" "$root"
    # On stderr: bats shows it only when the test fails.
    echo "\$ $(basename "$bin") $* -> status $status" >&2
    [[ -z $output ]] || printf '%s\n' "$output" >&2
}

# 3>&- : bats waits for every holder of its fd 3 to exit; a container init
# must never be one of them.
_call() {
    "$@" </dev/null 3>&-
}
_call_detached() {
    local out=$1
    shift
    "$@" </dev/null >>"$out" 2>&1 3>&-
}

# runtime ARGS...: the runtime under test with this test's --root.
runtime() {
    runtime_bin "$RUNTIME" "$ROOT" "$@"
}

# _output_file ID: where create/run -d output goes (ids may be hostile).
_output_file() {
    local name=${1//\//_}
    echo "$TEST_DIR/out-${name:-empty}"
}

# container_output ID: what the container printed so far (detached only).
container_output() {
    cat "$(_output_file "$1")" 2>/dev/null
}

# state_field ID FIELD: one field of `state ID` (empty if state fails).
state_field() {
    timeout -k 5 "$RUNTIME_TIMEOUT" "$RUNTIME" --root "$ROOT" state "$1" 2>/dev/null |
        jq -r ".$2 // empty" 2>/dev/null
}

# wait_for_status ID STATUS [SECONDS]: poll `state` until STATUS. A bound,
# never a timing assertion: slow machines only make it wait longer.
wait_for_status() {
    local id=$1 want=$2 limit=${3:-20} i
    for ((i = 0; i < limit * 10; i++)); do
        [[ $(state_field "$id" status) == "$want" ]] && return 0
        sleep 0.1
    done
    echo "container $id never reached status $want (last: $(state_field "$id" status))" >&2
    return 1
}

# wait_pid_gone PID [SECONDS]
wait_pid_gone() {
    local pid=$1 limit=${2:-20} i
    for ((i = 0; i < limit * 10; i++)); do
        [[ -d /proc/$pid ]] || return 0
        [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]] && return 0
        sleep 0.1
    done
    return 1
}

# create_running [ID]: create and start a container, assert it runs.
create_running() {
    local id=${1:-$ID}
    runtime create --bundle "$BUNDLE" "$id"
    assert_success
    runtime start "$id"
    assert_success
    wait_for_status "$id" running
}

# ---------------------------------------------------------------- leftovers

# Processes started from this test's bundle carry CONTAINER_MARK in their
# environment, whatever pid namespace they are in.
_marked_pids() {
    [[ -n ${CONTAINER_MARK:-} ]] || return 0
    grep -lsxF -z "$CONTAINER_MARK" /proc/[0-9]*/environ 2>/dev/null |
        sed -e 's|/proc/||' -e 's|/environ||'
}

# _cgroups_named ID: cgroup directories named after a container id, in
# every mounted hierarchy (v1 controllers, v2, hybrid).
_cgroups_named() {
    local id=$1 dir
    while read -r dir; do
        find "$dir" -maxdepth 6 -type d -name "$id" 2>/dev/null
    done < <(awk '$3 == "cgroup" || $3 == "cgroup2" {print $2}' /proc/self/mounts)
}

# assert_no_leftovers ROOT [ID...]: nothing remains of the given containers
# (or of anything this test made): state entries under ROOT, mounts under
# the test's directory, marked processes, cgroups named after an id.
assert_no_leftovers() {
    local root=$1
    shift
    local problems=() i pids entries id cg

    # Processes can take a moment to be reaped after SIGKILL; poll a little.
    for ((i = 0; i < 50; i++)); do
        pids=$(_marked_pids; _live_init_pids)
        pids=$(echo $pids | tr ' ' '\n' | sort -u)
        [[ -z $pids ]] && break
        sleep 0.1
    done
    [[ -z $pids ]] || problems+=("processes left: $(echo $pids) ($(for p in $pids; do tr '\0' ' ' </proc/$p/cmdline; echo -n '; '; done))")

    if [[ -d $root ]]; then
        # The compiled seccomp programs are the root's, kept across
        # containers by design (runtime/sandbox/seccomp_cache.hpp).
        entries=$(find "$root" -mindepth 1 -maxdepth 1 ! -name '*.lock' ! -name .tether-seccomp-cache -printf '%f ' 2>/dev/null)
        [[ -z $entries ]] || problems+=("state entries left in $root: $entries")
    fi

    if [[ -n ${TEST_DIR:-} ]] && grep -qF " $TEST_DIR/" /proc/self/mountinfo; then
        problems+=("mounts left: $(grep -F " $TEST_DIR/" /proc/self/mountinfo | awk '{print $5}' | tr '\n' ' ')")
    fi

    for id in "$@"; do
        cg=$(_cgroups_named "$id")
        [[ -z $cg ]] || problems+=("cgroups left for $id: $(echo $cg)")
    done

    if [[ ${#problems[@]} -gt 0 ]]; then
        printf 'LEFTOVER: %s\n' "${problems[@]}" >&2
        return 1
    fi
}

# teardown_bundle: force-delete everything this test created, with the
# runtime that created it, then insist that nothing is left.
teardown_bundle() {
    [[ -n ${TEST_DIR:-} ]] || return 0
    local root bin id ids rc=0 all_ids=()
    for root in "$TEST_DIR"/root "$TEST_DIR"/root-*; do
        [[ -d $root ]] || continue
        bin=$(cat "$root.bin" 2>/dev/null || echo "$RUNTIME")
        ids=("${CREATED_IDS[@]}")
        [[ -f $TEST_DIR/ids ]] && mapfile -t -O "${#ids[@]}" ids <"$TEST_DIR/ids"
        while read -r id; do ids+=("$id"); done < <(find "$root" -mindepth 1 -maxdepth 1 -type d -printf '%f\n')
        for id in $(printf '%s\n' "${ids[@]}" | sort -u); do
            timeout -k 5 "$RUNTIME_TIMEOUT" "$bin" --root "$root" delete --force "$id" </dev/null >/dev/null 2>&1 || true
            all_ids+=("$id")
        done
    done
    for root in "$TEST_DIR"/root "$TEST_DIR"/root-*; do
        [[ -d $root ]] || continue
        assert_no_leftovers "$root" "${all_ids[@]}" || rc=1
    done
    # A sandbox's audit trail outlives delete by design
    # (/var/log/tether/<id>.jsonl): the test removes its own.
    for id in "${all_ids[@]}"; do
        [[ $id =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] && rm -f /var/log/tether/"$id".jsonl /var/log/tether/"$id".jsonl.*
    done
    # Kill and remove what a broken runtime left, so that one failure does
    # not cascade into the next tests.
    local p cg
    for p in $(_marked_pids; _live_init_pids); do kill -9 "$p" 2>/dev/null || true; done
    if [[ $rc -ne 0 ]]; then
        sleep 0.5
        for id in "${all_ids[@]}"; do
            [[ $id =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] || continue
            for cg in $(_cgroups_named "$id" | sort -r); do rmdir "$cg" 2>/dev/null || true; done
        done
    fi
    return $rc
}

# ---------------------------------------------------------------- misc

# cgroup_layout: v2, hybrid or v1 (detected, never assumed).
cgroup_layout() {
    if [[ $(stat -fc %T /sys/fs/cgroup) == cgroup2fs ]]; then
        echo v2
    elif [[ -d /sys/fs/cgroup/unified ]] && [[ $(stat -fc %T /sys/fs/cgroup/unified) == cgroup2fs ]]; then
        echo hybrid
    else
        echo v1
    fi
}

# prepare_crun: crun 1.8 refuses a hybrid layout unless hugetlb is a v1
# hierarchy; mount it (only when missing, only on hybrid/v1 hosts).
prepare_crun() {
    command -v crun >/dev/null || skip "crun is not installed"
    [[ $(cgroup_layout) == v2 ]] && return 0
    awk '$3 == "cgroup" {print $4}' /proc/self/mounts | tr ',' '\n' | grep -qx hugetlb && return 0
    grep -qw '^hugetlb' /proc/cgroups || return 0
    mkdir -p /sys/fs/cgroup/hugetlb
    mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb
}

# require_netd: NETD is the tether-netd built next to the runtime under test
# (or TETHER_NETD); a missing one fails the test rather than skipping it.
require_netd() {
    NETD=${TETHER_NETD:-$(dirname "$RUNTIME")/tether-netd}
    [[ -x $NETD ]] || fail "tether-netd not found next to $RUNTIME (build the tether-netd target)"
}

# setup_netd_bundle / teardown_netd_bundle: setup and teardown of the files
# whose containers reach host-side servers through tether-netd
# (sandbox_bridge, sandbox_proxy, reliability/netd_leaks): the runtime and
# the daemon present, a bundle, no servers yet; afterwards the servers in
# SERVER_PIDS stopped and the bundle removed.
setup_netd_bundle() {
    require_runtime
    require_netd
    setup_bundle
    SERVER_PIDS=()
}
teardown_netd_bundle() {
    stop_servers
    teardown_bundle
}

# stop_servers: kill and reap the host-side servers a test started and
# recorded in SERVER_PIDS.
stop_servers() {
    local pid
    for pid in "${SERVER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${SERVER_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}

require_runtime() {
    [[ -x $RUNTIME ]] || {
        echo "runtime under test not found: $RUNTIME (build it or set RUNTIME=runc)" >&2
        return 1
    }
}

# Default setup/teardown; files override when they need more.
setup() {
    require_runtime
    setup_bundle
}

teardown() {
    teardown_bundle
}
