#!/usr/bin/env bats
# linux.sysctl: applied inside the container's own namespaces (read back
# from /proc/sys, the host's value untouched), and refused, before anything
# exists, when the key would change the host (net.* without a network
# namespace, kernel.shm* without an IPC namespace), is not namespaced at
# all, or does not exist. teardown_bundle checks that a refused create
# leaves no state, cgroup, mount or process behind.

load helpers

# drop_namespace TYPE: the container shares the host's TYPE namespace.
drop_namespace() {
    update_config ".linux.namespaces |= map(select(.type != \"$1\"))"
}

@test "sysctl [net.ipv4.ip_forward=1 in the container's own network namespace; the host's is untouched]" {
    local host_before
    host_before=$(cat /proc/sys/net/ipv4/ip_forward)
    # The value the container sets must differ from what a fresh network
    # namespace starts with (0), or the test could not fail.
    update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1"}'
    set_args cat /proc/sys/net/ipv4/ip_forward
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output 1
    [[ $(cat /proc/sys/net/ipv4/ip_forward) == "$host_before" ]]
}

@test "sysctl [kernel.shmmax and fs.mqueue.msg_max in the container's own IPC namespace]" {
    local host_shmmax
    host_shmmax=$(cat /proc/sys/kernel/shmmax)
    update_config '.linux.sysctl = {"kernel.shmmax": "123456789", "fs.mqueue.msg_max": "42"}'
    set_args sh -c 'cat /proc/sys/kernel/shmmax /proc/sys/fs/mqueue/msg_max'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output $'123456789\n42'
    [[ $(cat /proc/sys/kernel/shmmax) == "$host_shmmax" ]]
}

@test "sysctl [kernel.domainname in the container's own UTS namespace]" {
    update_config '.linux.sysctl = {"kernel.domainname": "tether.test"}'
    set_args cat /proc/sys/kernel/domainname
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output tether.test
}

@test "sysctl [net.* without a network namespace is refused naming the key]" {
    drop_namespace network
    update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1"}'
    set_args true
    local host_before
    host_before=$(cat /proc/sys/net/ipv4/ip_forward)
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial net.ipv4.ip_forward
    assert_output --partial 'network namespace'
    [[ $(cat /proc/sys/net/ipv4/ip_forward) == "$host_before" ]]
}

@test "sysctl [kernel.shmmax without an IPC namespace is refused naming the key]" {
    drop_namespace ipc
    update_config '.linux.sysctl = {"kernel.shmmax": "123456789"}'
    set_args true
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial kernel.shmmax
    assert_output --regexp '[Ii][Pp][Cc] namespace'
}

@test "sysctl [a key no namespace isolates (kernel.panic) is refused naming it]" {
    update_config '.linux.sysctl = {"kernel.panic": "0"}'
    set_args true
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial kernel.panic
}

@test "sysctl [a key the kernel does not have is refused naming its /proc/sys path]" {
    update_config '.linux.sysctl = {"net.ipv4.no_such_sysctl_tether": "1"}'
    set_args true
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial /proc/sys/net/ipv4/no_such_sysctl_tether
}

@test "sysctl [malformed keys (a slash, an empty component) are refused]" {
    local key
    for key in 'net/ipv4/ip_forward' 'net..ipv4' '.net.ipv4.ip_forward'; do
        ID=$(new_id)
        update_config ".linux.sysctl = {\"$key\": \"1\"}"
        set_args true
        runtime run --bundle "$BUNDLE" "$ID"
        assert_failure
        assert_output --partial "$key"
    done
}

@test "sysctl [a value the kernel rejects fails create naming the key's path]" {
    update_config '.linux.sysctl = {"net.ipv4.ip_forward": "banana"}'
    set_args true
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial /proc/sys/net/ipv4/ip_forward
}
