#!/usr/bin/env bats
# Namespaces as seen from inside: uts, pid, ipc, net, joining by path.

load helpers

@test "uts [hostname from config]" {
    set_args hostname
    update_config '.hostname = "ns-test-host"'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output ns-test-host
}

@test "pid [process is pid 1 and sees only its own processes]" {
    set_args sh -c 'echo $$; ls -d /proc/[0-9]* | wc -l'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line --index 0 1
    # sh and ls (the subshell running wc may add one): far fewer than the host's.
    [[ ${lines[1]} -le 4 ]]
}

@test "pid [without a pid namespace the process is not pid 1]" {
    set_args sh -c 'echo $$'
    update_config '.linux.namespaces |= map(select(.type != "pid"))'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    [[ $output -gt 1 ]]
}

@test "net [own network namespace has only lo]" {
    set_args sh -c 'ls /sys/class/net'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output lo
}

# create makes a new network namespace on a thread of its own while it makes
# the cgroups, and the init joins it first (runtime/linux/early_netns.hpp):
# each container still gets one of its own, not the runtime's, with lo up.
@test "net [each container its own network namespace, lo up in it]" {
    set_args sleep 3600
    create_running
    local pid first id2
    pid=$(state_field "$ID" pid)
    first=$(readlink "/proc/$pid/ns/net")
    [[ $first != "$(readlink /proc/self/ns/net)" ]]
    id2=$(new_id)
    set_args sh -c 'readlink /proc/self/ns/net; cat /sys/class/net/lo/flags'
    runtime run --bundle "$BUNDLE" "$id2"
    assert_success
    local lines
    mapfile -t lines <<<"$output"
    [[ ${lines[0]} == net:* && ${lines[0]} != "$first" && ${lines[0]} != "$(readlink /proc/self/ns/net)" ]]
    # IFF_UP (0x1) and IFF_LOOPBACK (0x8).
    (( (${lines[1]} & 0x1) == 1 ))
}

@test "ipc, uts, net, mnt [differ from the host's]" {
    set_args sh -c 'for n in ipc uts net mnt pid; do readlink /proc/self/ns/$n; done'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    for n in ipc uts net mnt pid; do
        refute_line "$(readlink /proc/self/ns/$n)"
    done
}

@test "net [joining a network namespace by path]" {
    create_running "$ID"
    pid=$(state_field "$ID" pid)
    want=$(readlink "/proc/$pid/ns/net")
    id2=$(new_id)
    set_args readlink /proc/self/ns/net
    update_config ".linux.namespaces |= map(if .type == \"network\" then .path = \"/proc/$pid/ns/net\" else . end)"
    runtime run --bundle "$BUNDLE" "$id2"
    assert_success
    assert_output "$want"
}

@test "pid [joining a pid namespace by path: the hooks still run in the runtime's pid namespace]" {
    # A Kubernetes pod's containers join the pause container's pid namespace;
    # a prestart hook (tether-netd) born there could not see the init's pid.
    create_running "$ID"
    pid=$(state_field "$ID" pid)
    id2=$(new_id)
    printf '#!/bin/sh\nreadlink /proc/self/ns/pid >>"$1"\n' >"$TEST_DIR/nshook.sh"
    chmod +x "$TEST_DIR/nshook.sh"
    set_args sh -c 'echo $$'
    update_config ".linux.namespaces |= map(if .type == \"pid\" then .path = \"/proc/$pid/ns/pid\" else . end)
        | .hooks = {prestart: [{path: \"$TEST_DIR/nshook.sh\", args: [\"nshook\", \"$TEST_DIR/hook-ns\"]}],
                    poststart: [{path: \"$TEST_DIR/nshook.sh\", args: [\"nshook\", \"$TEST_DIR/hook-ns\"]}]}"
    runtime run --bundle "$BUNDLE" "$id2"
    assert_success
    # Joined: the first container's init is pid 1 there, this process is not.
    [[ $output -gt 1 ]]
    run cat "$TEST_DIR/hook-ns"
    assert_output "$(readlink /proc/self/ns/pid)"$'\n'"$(readlink /proc/self/ns/pid)"
}

@test "uts [joining a uts namespace by path sees its hostname]" {
    update_config '.hostname = "first-box"'
    create_running "$ID"
    pid=$(state_field "$ID" pid)
    id2=$(new_id)
    set_args hostname
    update_config "del(.hostname) | .linux.namespaces |= map(if .type == \"uts\" then .path = \"/proc/$pid/ns/uts\" else . end)"
    runtime run --bundle "$BUNDLE" "$id2"
    assert_success
    assert_output first-box
}

@test "host network [no network namespace: host interfaces visible]" {
    set_args sh -c 'ls /sys/class/net | wc -l'
    update_config '.linux.namespaces |= map(select(.type != "network"))'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    [[ $output == "$(ls /sys/class/net | wc -l)" ]]
}
