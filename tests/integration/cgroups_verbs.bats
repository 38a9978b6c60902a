#!/usr/bin/env bats
# The cgroup verbs on this machine's real hierarchy: ps, pause/resume,
# update, events, kill --all. Values are read back from the container's
# cgroup files or observed from what the container does.

load helpers
load cgroups_helpers

MiB=$((1024 * 1024))

teardown() {
    # A background `events` reader this test started.
    if [[ -n ${EVENTS_PID:-} ]]; then
        kill "$EVENTS_PID" 2>/dev/null || true
        wait "$EVENTS_PID" 2>/dev/null || true
    fi
    teardown_bundle
}

# counter_loop: the container rewrites /counter (atomically) ten times a second.
counter_loop() {
    writable_rootfs
    set_args sh -c 'i=0; while :; do i=$((i+1)); echo $i >/counter.tmp; mv /counter.tmp /counter; sleep 0.1; done'
}

counter() {
    cat "$BUNDLE/rootfs/counter" 2>/dev/null || echo 0
}

# wait_counter_above N: bounded wait until the container counted past N.
wait_counter_above() {
    local limit=$1 i
    for ((i = 0; i < 200; i++)); do
        (($(counter) > limit)) && return 0
        sleep 0.1
    done
    echo "counter stuck at $(counter) (wanted > $limit)" >&2
    return 1
}

@test "pause stops a counting loop, state says paused; resume restarts it" {
    counter_loop
    create_running
    wait_counter_above 2

    runtime pause "$ID"
    assert_success
    wait_for_status "$ID" paused
    local frozen_at
    frozen_at=$(counter)
    # A frozen container cannot count: the value stays whatever we wait.
    sleep 1
    assert_equal "$(counter)" "$frozen_at"

    runtime pause "$ID"
    assert_failure
    assert_output --partial "paused"

    runtime resume "$ID"
    assert_success
    wait_for_status "$ID" running
    wait_counter_above "$frozen_at"

    runtime resume "$ID"
    assert_failure
    assert_output --partial "not paused"
}

@test "pause [stopped container fails with 'container not running']" {
    set_args true
    runtime create --bundle "$BUNDLE" "$ID"
    runtime start "$ID"
    wait_for_status "$ID" stopped
    runtime pause "$ID"
    assert_failure
    assert_output --partial "container not running"
}

@test "delete --force [paused container: processes and cgroups gone]" {
    create_running
    runtime pause "$ID"
    assert_success
    wait_for_status "$ID" paused
    runtime delete --force "$ID"
    assert_success
    assert_no_leftovers "$ROOT" "$ID"
}

# The grandchild is started by a shell that exits at once: it is reparented
# outside the init's process tree (host pid namespace), so only the cgroup
# still knows it belongs to the container.
@test "kill --all KILL [reaches a process that double-forked out of the init's tree]" {
    writable_rootfs
    update_config '.linux.namespaces |= map(select(.type != "pid"))'
    set_args sh -c 'sh -c "sleep 3600 & echo \$! >/grandchild"; while :; do sleep 1; done'
    create_running
    wait_for_file "$BUNDLE/rootfs/grandchild"
    local grandchild init
    grandchild=$(cat "$BUNDLE/rootfs/grandchild")
    init=$(state_field "$ID" pid)
    [[ -d /proc/$grandchild ]]
    [[ $(awk '/^PPid:/ {print $2}' "/proc/$grandchild/status") != "$init" ]]

    runtime kill --all "$ID" KILL
    assert_success
    wait_pid_gone "$grandchild"
    wait_for_status "$ID" stopped
}

@test "ps --format json [lists the init and its child as host pids]" {
    create_running
    local init child
    init=$(state_field "$ID" pid)
    runtime ps --format json "$ID"
    assert_success
    # One JSON array of numbers.
    jq -e 'type == "array" and all(.[]; type == "number")' <<<"$output"
    jq -e --argjson init "$init" 'index($init) != null' <<<"$output"
    for child in $(jq -r '.[]' <<<"$output"); do
        [[ $(awk '/^PPid:/ {print $2}' "/proc/$child/status") == "$init" ]] && return 0
    done
    echo "no child of the init ($init) in $output" >&2
    return 1
}

@test "ps [table of the host's ps -ef, only the container's lines; ps options pass through]" {
    create_running
    local init
    init=$(state_field "$ID" pid)
    runtime ps "$ID"
    assert_success
    assert_line --index 0 --regexp '^UID +PID +PPID'
    assert_line --regexp "^[^ ]+ +$init +"
    assert_output --partial "sleep 3600"
    refute_output --partial "bats"
    assert_equal "${#lines[@]}" 3  # header, sh, sleep

    runtime ps "$ID" -o pid,comm
    assert_success
    assert_line --index 0 --regexp '^ *PID +COMMAND'
    assert_line --regexp "^ *$init +sh$"
    assert_line --regexp '^ *[0-9]+ +sleep$'
}

@test "update flags [memory, swap, reservation, cpu, cpuset, pids change in the cgroup]" {
    create_running
    local swap=()
    swap_limit_supported && swap=(--memory-swap 256m)
    runtime update --memory 128m "${swap[@]}" --memory-reservation 64m --cpu-quota 20000 --cpu-period 50000 \
        --cpu-share 256 --cpuset-cpus 0 --pids-limit 50 "$ID"
    assert_success
    if [[ $(cgroup_layout) == v2 ]]; then
        assert_equal "$(cg_read memory memory.max)" $((128 * MiB))
        assert_equal "$(cg_read memory memory.low)" $((64 * MiB))
        [[ ${#swap[@]} -eq 0 ]] || assert_equal "$(cg_read memory memory.swap.max)" $((128 * MiB))
        assert_equal "$(cg_read cpu cpu.max)" "20000 50000"
        # 1 + (256 - 2) * 9999 / 262142 = 10
        assert_equal "$(cg_read cpu cpu.weight)" 10
    else
        assert_equal "$(cg_read memory memory.limit_in_bytes)" $((128 * MiB))
        assert_equal "$(cg_read memory memory.soft_limit_in_bytes)" $((64 * MiB))
        [[ ${#swap[@]} -eq 0 ]] || assert_equal "$(cg_read memory memory.memsw.limit_in_bytes)" $((256 * MiB))
        assert_equal "$(cg_read cpu cpu.cfs_quota_us)" 20000
        assert_equal "$(cg_read cpu cpu.cfs_period_us)" 50000
        assert_equal "$(cg_read cpu cpu.shares)" 256
    fi
    assert_equal "$(cg_read cpuset cpuset.cpus)" 0
    assert_equal "$(cg_read pids pids.max)" 50

    # -1: unlimited again.
    runtime update --pids-limit -1 --cpu-quota -1 "$ID"
    assert_success
    assert_equal "$(cg_read pids pids.max)" max
    if [[ $(cgroup_layout) == v2 ]]; then
        assert_equal "$(cg_read cpu cpu.max)" "max 50000"
    else
        assert_equal "$(cg_read cpu cpu.cfs_quota_us)" -1
    fi
}

@test "update --resources=FILE and -r - [linux.resources JSON from a file and from stdin]" {
    create_running
    echo '{"pids":{"limit":77},"memory":{"limit":100663296}}' >"$TEST_DIR/resources.json"
    runtime update --resources="$TEST_DIR/resources.json" "$ID"
    assert_success
    assert_equal "$(cg_read pids pids.max)" 77
    if [[ $(cgroup_layout) == v2 ]]; then
        assert_equal "$(cg_read memory memory.max)" 100663296
    else
        assert_equal "$(cg_read memory memory.limit_in_bytes)" 100663296
    fi

    run bash -c "echo '{\"pids\":{\"limit\":88}}' | timeout 30 '$RUNTIME' --root '$ROOT' update -r - '$ID' 3>&-"
    assert_success
    assert_equal "$(cg_read pids pids.max)" 88
}

@test "update --blkio-weight [bfq or cfq weight file, where the kernel has one]" {
    create_running
    local dir file
    dir=$(cg_dir "$(state_field "$ID" pid)" "$([[ $(cgroup_layout) == v2 ]] && echo io || echo blkio)")
    for file in blkio.bfq.weight blkio.weight io.bfq.weight io.weight; do
        [[ -f $dir/$file ]] && break
        file=
    done
    [[ -n $file ]] || skip "no block IO weight file in $dir"
    runtime update --blkio-weight 500 "$ID"
    assert_success
    case $file in
        blkio.* | io.bfq.weight) grep -qw 500 "$dir/$file" ;;
        # Without BFQ, v2 converts: 1 + (500 - 10) * 9999 / 990 = 4950.
        io.weight) grep -qw 4950 "$dir/$file" ;;
    esac
}

@test "update [bad values are refused naming the flag; the cgroup keeps its limit]" {
    set_resources '{"pids":{"limit":100}}'
    create_running
    runtime update --pids-limit many "$ID"
    assert_failure
    assert_output --partial "--pids-limit"
    runtime update --memory 12x "$ID"
    assert_failure
    assert_output --partial "--memory"
    assert_equal "$(cg_read pids pids.max)" 100
}

@test "update [stopped container fails]" {
    set_args true
    runtime create --bundle "$BUNDLE" "$ID"
    runtime start "$ID"
    wait_for_status "$ID" stopped
    runtime update --pids-limit 10 "$ID"
    assert_failure
    assert_output --partial "container not running"
}

@test "events --stats [one JSON stats object with cpu, memory and pids]" {
    create_running
    runtime events --stats "$ID"
    assert_success
    assert_equal "${#lines[@]}" 1
    jq -e --arg id "$ID" '.type == "stats" and .id == $id' <<<"$output"
    jq -e '.data.memory.usage.usage > 0' <<<"$output"
    jq -e '.data.pids.current >= 2' <<<"$output"
    jq -e '.data.cpu.usage.total > 0' <<<"$output"
}

# The container waits for /go, then allocates a 64M buffer under a 32M
# limit: the kernel's OOM killer ends that process and events reports it.
@test "events [stats lines every interval, an oom line on an OOM kill, ends when the container stops]" {
    writable_rootfs
    local swap=''
    if swap_limit_supported; then
        swap=",\"swap\":$((32 * MiB))"
    elif (($(wc -l </proc/swaps) > 1)); then
        skip "swap is on but cannot be limited per cgroup: the buffer would be swapped, not OOM-killed"
    fi
    set_resources "{\"memory\":{\"limit\":$((32 * MiB))$swap}}"
    set_args sh -c 'while [ ! -e /go ]; do sleep 0.1; done; dd if=/dev/zero of=/dev/null bs=64M count=1; echo dd-done; while :; do sleep 1; done'
    create_running

    local events_out=$TEST_DIR/events.out i
    timeout 120 "$RUNTIME" --root "$ROOT" events --interval 200ms "$ID" >"$events_out" 2>&1 3>&- &
    EVENTS_PID=$!
    # The first stats line proves the OOM source is open.
    for ((i = 0; i < 200; i++)); do
        grep -q '"type":"stats"' "$events_out" && break
        sleep 0.1
    done
    grep -q '"type":"stats"' "$events_out"

    touch "$BUNDLE/rootfs/go"
    for ((i = 0; i < 300; i++)); do
        grep -q '"type":"oom"' "$events_out" && break
        sleep 0.1
    done
    cat "$events_out" >&2
    grep -qx "{\"type\":\"oom\",\"id\":\"$ID\"}" "$events_out"

    runtime kill "$ID" KILL
    assert_success
    # The stream ends by itself, successfully, once the init is gone.
    wait "$EVENTS_PID"
    EVENTS_PID=
    # Every line is one JSON object.
    jq -e -s 'length >= 2' "$events_out"
}

@test "events [a stopped container is refused]" {
    set_args true
    runtime create --bundle "$BUNDLE" "$ID"
    runtime start "$ID"
    wait_for_status "$ID" stopped
    runtime events --stats "$ID"
    assert_failure
    assert_output --partial "container not running"
}
