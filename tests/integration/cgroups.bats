#!/usr/bin/env bats
# tether-tests: serial (reads the hugetlb hierarchy compat.bats mounts and unmounts)
# linux.resources on this machine's real cgroup hierarchy: every limit of
# config.json is read back from the container's cgroup files; devices are
# checked from inside the container; nothing is left after delete or after a
# refused create. The layout (v1, hybrid, v2) is detected, never assumed.

load helpers
load cgroups_helpers

MiB=$((1024 * 1024))

@test "cgroups: memory, cpu, cpuset and pids from config.json are in the cgroup files" {
    local swap=''
    swap_limit_supported && swap=',"swap":134217728'
    set_resources "{\"memory\":{\"limit\":$((64 * MiB)),\"reservation\":$((32 * MiB))$swap},
                    \"cpu\":{\"shares\":512,\"quota\":50000,\"period\":100000,\"cpus\":\"0\",\"mems\":\"0\"},
                    \"pids\":{\"limit\":100}}"
    runtime create --bundle "$BUNDLE" "$ID"
    assert_success

    if [[ $(cgroup_layout) == v2 ]]; then
        assert_equal "$(cg_read memory memory.max)" $((64 * MiB))
        assert_equal "$(cg_read memory memory.low)" $((32 * MiB))
        # v2 limits swap alone: memory+swap 128M - memory 64M.
        [[ -z $swap ]] || assert_equal "$(cg_read memory memory.swap.max)" $((64 * MiB))
        # runc's shares -> weight map: 1 + (512 - 2) * 9999 / 262142 = 20.
        assert_equal "$(cg_read cpu cpu.weight)" 20
        assert_equal "$(cg_read cpu cpu.max)" "50000 100000"
    else
        assert_equal "$(cg_read memory memory.limit_in_bytes)" $((64 * MiB))
        assert_equal "$(cg_read memory memory.soft_limit_in_bytes)" $((32 * MiB))
        [[ -z $swap ]] || assert_equal "$(cg_read memory memory.memsw.limit_in_bytes)" $((128 * MiB))
        assert_equal "$(cg_read cpu cpu.shares)" 512
        assert_equal "$(cg_read cpu cpu.cfs_quota_us)" 50000
        assert_equal "$(cg_read cpu cpu.cfs_period_us)" 100000
    fi
    assert_equal "$(cg_read cpuset cpuset.cpus)" 0
    assert_equal "$(cg_read cpuset cpuset.mems)" 0
    assert_equal "$(cg_read pids pids.max)" 100
}

@test "cgroups: swappiness and disableOOMKiller [v1 memory controller]" {
    [[ $(cgroup_layout) != v2 ]] || skip "cgroup v2 has no swappiness or oom_control"
    set_resources "{\"memory\":{\"limit\":$((64 * MiB)),\"swappiness\":20,\"disableOOMKiller\":true}}"
    runtime create --bundle "$BUNDLE" "$ID"
    assert_success
    assert_equal "$(cg_read memory memory.swappiness)" 20
    run cg_read memory memory.oom_control
    assert_line "oom_kill_disable 1"
}

@test "cgroups: hugepageLimits [2MB pages]" {
    has_controller hugetlb || skip "no hugetlb controller"
    [[ -d /sys/kernel/mm/hugepages/hugepages-2048kB ]] || skip "no 2MB huge pages"
    set_resources "{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":$((4 * MiB))}]}"
    runtime create --bundle "$BUNDLE" "$ID"
    assert_success
    if [[ $(cgroup_layout) == v2 ]]; then
        assert_equal "$(cg_read hugetlb hugetlb.2MB.max)" $((4 * MiB))
    else
        assert_equal "$(cg_read hugetlb hugetlb.2MB.limit_in_bytes)" $((4 * MiB))
    fi
}

# A host device outside the default set (/dev/fuse or /dev/loop-control;
# both open without capabilities for the owner, root) is bind-mounted into the
# container: the config's default-deny device rule must stop it from being
# opened, while the default devices (/dev/null) stay usable.
@test "cgroups: devices [a denied device cannot be opened from inside, an allowed one can]" {
    local device major minor
    for device in /dev/fuse /dev/loop-control ''; do
        [[ -c $device ]] && break
    done
    [[ -n $device ]] || skip "no /dev/fuse or /dev/loop-control on this host"
    major=$((16#$(stat -c %t "$device")))
    minor=$((16#$(stat -c %T "$device")))
    update_config ".mounts += [{\"destination\":\"/dev/tdev\",\"type\":\"bind\",\"source\":\"$device\",\"options\":[\"bind\"]}]"
    set_args sh -c 'if true </dev/tdev; then echo tdev-opened; else echo tdev-denied; fi; true >/dev/null && echo null-opened'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output --partial "tdev-denied"
    assert_output --partial "Operation not permitted"
    assert_output --partial "null-opened"

    # (run removes a container once its process exits.)
    # The same container with an allow rule: the denial above was the
    # device cgroup's, not the mount's.
    local id2
    id2=$(new_id)
    update_config ".linux.resources.devices += [{\"allow\":true,\"type\":\"c\",\"major\":$major,\"minor\":$minor,\"access\":\"r\"}]"
    runtime run --bundle "$BUNDLE" "$id2"
    assert_success
    assert_output --partial "tdev-opened"
}

@test "cgroups: absolute cgroupsPath [the cgroup is at that path below the hierarchy root]" {
    update_config ".linux.cgroupsPath = \"/$ID\""
    create_running
    local pid dir
    pid=$(state_field "$ID" pid)
    dir=$(cg_dir "$pid" memory)
    if [[ $(cgroup_layout) == v2 ]]; then
        assert_equal "$dir" "$(v2_mount)/$ID"
    else
        assert_equal "$dir" "$(v1_mount memory)/$ID"
        assert_equal "$(cg_dir "$pid" pids)" "$(v1_mount pids)/$ID"
    fi
    grep -qx "$pid" "$dir/cgroup.procs"
}

@test "cgroups: delete [every cgroup directory of the container is removed]" {
    create_running
    [[ -n $(_cgroups_named "$ID") ]]
    runtime kill "$ID" KILL
    assert_success
    wait_for_status "$ID" stopped
    runtime delete "$ID"
    assert_success
    assert_equal "$(_cgroups_named "$ID")" ""
}

@test "cgroups: create with a bad resources value [refused, no cgroup or state left]" {
    # CPU 999 does not exist: the kernel refuses the cpuset write.
    set_resources '{"cpu":{"cpus":"999"}}'
    runtime create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial "cpuset.cpus"
    assert_equal "$(_cgroups_named "$ID")" ""
    runtime state "$ID"
    assert_failure
}

@test "cgroups: unified keys on a v1 or hybrid host [refused naming the key, nothing left]" {
    [[ $(cgroup_layout) != v2 ]] || skip "cgroup v2 accepts unified keys"
    set_resources '{"unified":{"memory.high":"50000000"}}'
    runtime create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial "memory.high"
    assert_output --partial "cgroup v2"
    assert_equal "$(_cgroups_named "$ID")" ""
}

@test "cgroups: unified keys on a v2 host [written to the cgroup]" {
    [[ $(cgroup_layout) == v2 ]] || skip "needs cgroup v2 (this host: $(cgroup_layout))"
    set_resources '{"unified":{"memory.high":"50003968"}}'
    runtime create --bundle "$BUNDLE" "$ID"
    assert_success
    assert_equal "$(cg_read memory memory.high)" 50003968
}

# A move into a cgroup waits, after a quiet spell, for an RCU grace period
# (7-16 ms here, on every create and exec of a v2 host); a process born in
# its cgroup (clone3 CLONE_INTO_CGROUP) does not. Only the cgroup2 hierarchy
# has the flag: on v1 the process moves itself (the test below).
@test "cgroups: the init and an exec'd process are born in their cgroup2 cgroup [CLONE_INTO_CGROUP, no cgroup.procs write there]" {
    local v2 log=$TEST_DIR/strace
    v2=$(v2_mount)
    [[ -n $v2 ]] || skip "no cgroup2 hierarchy is mounted"
    command -v strace >/dev/null || fail "strace is missing (contrib/setup.sh installs it)"

    update_config '.process.args = ["cat", "/proc/self/cgroup"]'
    run strace -f -qq -y -e trace=clone3,write -o "$log.run" "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$ID"
    assert_success
    local init_cgroup2
    init_cgroup2=$(grep '^0::' <<<"$output")
    [[ -n $init_cgroup2 ]]
    grep -q 'clone3(.*CLONE_INTO_CGROUP' "$log.run"
    run grep "<$v2/.*/cgroup.procs>" "$log.run"
    assert_failure

    update_config '.process.args = ["sleep", "3600"]'
    create_running
    run strace -f -qq -y -b execve -e trace=clone3,write -o "$log.exec" \
        "$RUNTIME" --root "$ROOT" exec "$ID" cat /proc/self/cgroup
    assert_success
    # The same cgroup2 cgroup as the init (both seen from the container).
    assert_equal "$(grep '^0::' <<<"$output")" "$init_cgroup2"
    grep -q 'clone3(.*CLONE_INTO_CGROUP' "$log.exec"
    run grep "<$v2/.*/cgroup.procs>" "$log.exec"
    assert_failure
}

# v1 has no CLONE_INTO_CGROUP: the init and an exec'd process write "0" to
# each hierarchy's tasks file themselves (files create opened), so nobody
# writes a pid to cgroup.procs and waits for the global lock's grace period
# (runtime/cgroups/self_join.hpp). They must still end up in the
# container's cgroup of every v1 hierarchy the host mounts.
@test "cgroups: the init and an exec'd process join every v1 hierarchy themselves [tasks \"0\", no cgroup.procs write]" {
    [[ $(cgroup_layout) != v2 ]] || skip "no cgroup v1 hierarchy on this host"
    local log=$TEST_DIR/strace init_cgroups line checked=0
    command -v strace >/dev/null || fail "strace is missing (contrib/setup.sh installs it)"
    update_config '.process.args = ["cat", "/proc/self/cgroup"]'
    run strace -f -qq -y -e trace=write -o "$log.run" "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$ID"
    assert_success
    init_cgroups=$output
    # Every v1 hierarchy (no cgroup namespace: host paths): the container's
    # cgroup, the runtime's own one there plus the id.
    while IFS= read -r line; do
        [[ $line == 0::* ]] && continue
        [[ $line == *:/*"$ID" ]] || fail "the init is not in its cgroup: $line"
        checked=$((checked + 1))
    done <<<"$init_cgroups"
    [[ $checked -gt 0 ]]
    # Nobody moved a pid; the init wrote "0" to the tasks files (a write
    # that strace splits, "<unfinished ...>", because the parent's calls
    # interleave counts too: the cgroups above say it went through).
    run grep '/cgroup.procs>' "$log.run"
    assert_failure
    [[ $(grep -c '/tasks>, "0", 1' "$log.run") -ge $checked ]]

    update_config '.process.args = ["sleep", "3600"]'
    create_running
    run strace -f -qq -y -b execve -e trace=write -o "$log.exec" \
        "$RUNTIME" --root "$ROOT" exec "$ID" cat /proc/self/cgroup
    assert_success
    # The same cgroup as the init's in every hierarchy.
    assert_equal "$output" "$(cat "/proc/$(state_field "$ID" pid)/cgroup")"
    run grep '/cgroup.procs>' "$log.exec"
    assert_failure
    grep -q '/tasks>, "0", 1) = 1' "$log.exec"
}

# A `type: cgroup` mount on a v1 or hybrid host (runc's default spec has
# one, read-only): each hierarchy's own cgroup of the container is bound
# into it, as runc and crun do, so that a program reading its limits there
# (a JVM, a Go runtime) finds them. The saved cgroup path names each
# hierarchy's cgroup apart when they differ (the runtime's own cgroups are
# not at the same place in every hierarchy).
@test "cgroups: the container's /sys/fs/cgroup shows its own v1 cgroups [memory and pids limits read inside]" {
    [[ $(cgroup_layout) != v2 ]] || skip "a v2 host mounts cgroup2 there"
    jq -e '.mounts[] | select(.type == "cgroup")' "$BUNDLE/config.json" >/dev/null || skip "no cgroup mount in the bundle"
    set_resources "{\"memory\":{\"limit\":$((64 * MiB))},\"pids\":{\"limit\":77}}"
    set_args sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; touch /sys/fs/cgroup/memory/x 2>&1 | grep -c Read-only'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line --index 0 $((64 * MiB))
    assert_line --index 1 77
    assert_line --index 2 1
}
