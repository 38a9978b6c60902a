#!/usr/bin/env bash
# Helpers for the cgroup tests (cgroups*.bats): find a container's cgroup
# files on this machine's real hierarchy, whatever its layout (detected with
# cgroup_layout from helpers.bash, never assumed).

# v1_mount CONTROLLER: mount point of a v1 hierarchy carrying CONTROLLER.
v1_mount() {
    awk -v c="$1" '$3 == "cgroup" { n = split($4, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $2; exit } }' \
        /proc/self/mounts
}

# v2_mount: mount point of the cgroup2 hierarchy.
v2_mount() {
    awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts
}

# cg_dir PID CONTROLLER: the directory of PID's cgroup holding CONTROLLER's
# files (the v1 controller hierarchy, or the single v2 directory).
cg_dir() {
    local pid=$1 controller=$2 mount path
    if [[ $(cgroup_layout) == v2 ]]; then
        mount=$(v2_mount)
        path=$(awk -F: '$1 == "0" { print $3; exit }' "/proc/$pid/cgroup")
    else
        mount=$(v1_mount "$controller")
        path=$(awk -F: -v c="$controller" '{ n = split($2, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $3; exit } }' \
            "/proc/$pid/cgroup")
    fi
    [[ -n $mount && -n $path ]] || return 1
    echo "$mount${path%/}"
}

# cg_read CONTROLLER FILE: a control file of this test's container ($ID).
cg_read() {
    local pid dir
    pid=$(state_field "$ID" pid)
    dir=$(cg_dir "$pid" "$1") || { echo "no $1 cgroup for pid $pid" >&2; return 1; }
    cat "$dir/$2"
}

# has_controller CONTROLLER: the controller can be used on this host.
has_controller() {
    if [[ $(cgroup_layout) == v2 ]]; then
        grep -qw "$1" "$(v2_mount)/cgroup.controllers"
    else
        [[ -n $(v1_mount "$1") ]]
    fi
}

# swap_limit_supported: the kernel accounts swap per cgroup (memsw on v1,
# memory.swap.max on v2).
swap_limit_supported() {
    if [[ $(cgroup_layout) == v2 ]]; then
        compgen -G "$(v2_mount)/*/memory.swap.max" >/dev/null
    else
        [[ -f $(v1_mount memory)/memory.memsw.limit_in_bytes ]]
    fi
}

# set_resources JSON: linux.resources of this test's config.
set_resources() {
    update_config ".linux.resources = (.linux.resources // {}) + $1"
}

# writable_rootfs: the container writes files the test reads from
# $BUNDLE/rootfs.
writable_rootfs() {
    update_config '.root.readonly = false'
}

# wait_for_file PATH [SECONDS]: bounded wait for a file the container writes.
wait_for_file() {
    local path=$1 limit=${2:-20} i
    for ((i = 0; i < limit * 10; i++)); do
        [[ -s $path ]] && return 0
        sleep 0.1
    done
    echo "never appeared: $path" >&2
    return 1
}
