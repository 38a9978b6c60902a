#!/usr/bin/env bats
# tether-tests: serial (counts the host's processes, open files and slab)
# Load: many create/start/delete cycles leave the host as they found it: no
# growth in mounts, cgroups, processes, open files or unreclaimable kernel
# memory (where leaked namespaces, mounts and fds would sit).
#
#   LOAD_CYCLES=500   cycles (the test command runs 500)

load reliability_helpers

setup() {
    reliability_setup
}

teardown() {
    teardown_bundle
}

# host_counts: "mounts cgroup-dirs processes open-files slab-kB"
host_counts() {
    local mounts cgroups procs files slab
    mounts=$(wc -l </proc/self/mountinfo)
    cgroups=$(while read -r dir; do find "$dir" -maxdepth 3 -type d 2>/dev/null; done < <(
        awk '$3 == "cgroup" || $3 == "cgroup2" {print $2}' /proc/self/mounts) | wc -l)
    procs=$(ls -d /proc/[0-9]* | wc -l)
    files=$(awk '{print $1}' /proc/sys/fs/file-nr)
    slab=$(awk '/^SUnreclaim:/ {print $2}' /proc/meminfo)
    echo "$mounts $cgroups $procs $files $slab"
}

@test "load [create/start/delete cycles: no growth in mounts, cgroups, processes, files, kernel memory]" {
    local cycles=${LOAD_CYCLES:-500} warm=20
    set_args true
    echo "$RUNTIME" >"$ROOT.bin"
    cycle() {
        local id=$1
        printf '%s\n' "$id" >>"$TEST_DIR/ids"
        timeout -k 5 30 "$RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" "$id" </dev/null >/dev/null 2>"$TEST_DIR/cycle.err" 3>&- &&
            timeout -k 5 30 "$RUNTIME" --root "$ROOT" start "$id" </dev/null >/dev/null 2>>"$TEST_DIR/cycle.err" 3>&- &&
            timeout -k 5 30 "$RUNTIME" --root "$ROOT" delete --force "$id" </dev/null >/dev/null 2>>"$TEST_DIR/cycle.err" 3>&-
    }
    # cycles PREFIX COUNT: COUNT cycles, stopping at the first failure.
    cycles() {
        local i
        for ((i = 0; i < $2; i++)); do
            cycle "$1$i" || { echo "cycle $1$i failed: $(cat "$TEST_DIR/cycle.err")" >&2; return 1; }
        done
    }
    # The cycles run under a child subreaper that reaps at once, as conmon
    # and containerd's shim do: an exited init whose `create` is gone is
    # reparented there, not to the machine's PID 1 (which may reap lazily
    # and so would make the process count measure PID 1, not tether).
    export -f cycle cycles
    export RUNTIME ROOT BUNDLE TEST_DIR
    local reaper=(python3 "$INTEGRATION_ROOT/tools/subreaper.py" bash -c 'cycles "$0" "$1"')
    # Warm up (page cache, lazily created cgroup parents), then measure.
    "${reaper[@]}" "load-$$-w" "$warm"
    local before after
    before=($(host_counts))
    "${reaper[@]}" "load-$$-" "$cycles"
    after=($(host_counts))
    echo "before: mounts=${before[0]} cgroups=${before[1]} procs=${before[2]} files=${before[3]} slab=${before[4]}kB" >&2
    echo "after:  mounts=${after[0]} cgroups=${after[1]} procs=${after[2]} files=${after[3]} slab=${after[4]}kB" >&2
    # Ours exactly: no mount under the test's directory, no cgroup named
    # after a cycle's id. The host's totals with a margin for unrelated
    # activity: a leak of one per cycle shows as +500.
    ! grep -qF " $TEST_DIR/" /proc/self/mountinfo
    [[ -z $(_cgroups_named "load-$$-*") ]]
    [[ ${after[0]} -le $((before[0] + 20)) ]]
    [[ ${after[1]} -le $((before[1] + 20)) ]]
    # Processes and open files of the whole host move with other activity;
    # a per-cycle leak would add hundreds.
    [[ ${after[2]} -le $((before[2] + 50)) ]]
    [[ ${after[3]} -le $((before[3] + 200)) ]]
    # Unreclaimable slab: a leaked namespace or mount per cycle costs far
    # more than 64 MB over 500 cycles.
    [[ ${after[4]} -le $((before[4] + 65536)) ]]
    [[ -z $(ls -A "$ROOT" | grep -v '\.lock$') ]]
}
