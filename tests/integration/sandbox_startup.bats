#!/usr/bin/env bats
# When a sandbox's tether-netd starts (docs/network-daemon.md): at the init's
# `hello`, so that it loads its socket programs and opens its listeners while
# the init builds its rootfs, not when the init asks for the prestart hooks.
# The other prestart hooks still run after it, in order, and an init that
# fails meanwhile leaves no daemon behind.

load sandbox_helpers

# A prestart hook of the config's own: it records whether tether-netd
# already serves (its control socket is in the state directory).
add_recording_prestart_hook() {
    local hook=$TEST_DIR/prestart-hook.sh
    cat >"$hook" <<HOOK
#!/bin/sh
id=\$(sed -n 's/.*"id": *"\\([^"]*\\)".*/\\1/p')
if [ -S "$ROOT/\$id/netd.sock" ]; then echo serving; else echo absent; fi >"$TEST_DIR/netd-at-prestart"
HOOK
    chmod +x "$hook"
    _jq_config '.hooks.prestart = [{path: $path}]' --arg path "$hook"
}

# assert_failed_leaving_nothing TEXT: the create just run failed naming
# TEXT, and left no state, cgroup or process, and no tether-netd of this
# test.
assert_failed_leaving_nothing() {
    assert_failure
    assert_output --partial "$1"
    assert_no_leftovers "$ROOT" "$ID"
    [[ -z $(netd_pids_of_test) ]] || fail "tether-netd left: $(netd_pids_of_test)"
}

@test "startup: tether-netd starts when the init says hello, and the config's prestart hook runs after it serves" {
    annotate run.tether.network.allowLocalOutboundPorts 1
    add_recording_prestart_hook
    set_args true
    runtime --debug --log "$TEST_DIR/debug.log" run --bundle "$BUNDLE" "$ID"
    assert_success
    # The order of create's steps in the --debug log.
    run grep -o 'step create: [^+]*' "$TEST_DIR/debug.log"
    assert_success
    local started asked
    started=$(grep -n 'tether-netd started' <<<"$output" | cut -d: -f1)
    asked=$(grep -n 'the init asks for the prestart hooks' <<<"$output" | cut -d: -f1)
    [[ -n $started && -n $asked ]] || fail "steps missing: $output"
    ((started < asked)) || fail "tether-netd started only when the init asked for the hooks: $output"
    assert_equal "$(cat "$TEST_DIR/netd-at-prestart")" serving
}

@test "startup: an init that fails while tether-netd starts leaves no daemon, state or cgroup" {
    annotate run.tether.network.allowLocalOutboundPorts 1
    # The kernel refuses the option when the init mounts it (after hello,
    # before the prestart hooks): nothing checks it earlier.
    update_config '.mounts += [{"destination": "/bad", "type": "tmpfs", "source": "tmpfs", "options": ["size=banana"]}]'
    set_args true
    runtime create --bundle "$BUNDLE" "$ID"
    # No state (the root keeps only its compiled seccomp programs), no
    # cgroup, no process; and no tether-netd of this test. Two things see to
    # the daemon: create's clean-up stops it, and it exits with the init it
    # watches (create's clean-up switched off alone leaves this test green).
    assert_failed_leaving_nothing "mount tmpfs on /bad"
}

# With tether-netd's hook the only hook, the init enters its rootfs while the
# daemon starts and takes its answer after (docs/architecture.md, step 9):
# a failure there reaches create while it waits for the daemon, which exits
# with the init. The init's own error must be the one reported.
@test "startup: a sysctl that fails while tether-netd starts is reported as such and leaves nothing" {
    annotate run.tether.network.allowLocalOutboundPorts 1
    update_config '.linux.sysctl = {"net.ipv4.tether_no_such_key": "1"}'
    set_args true
    runtime create --bundle "$BUNDLE" "$ID"
    assert_failed_leaving_nothing 'linux.sysctl "net.ipv4.tether_no_such_key"'
    refute_output --partial "netd"
}

# tether-netd is executed before the cgroups and the init exist, and gets
# its state at the init's hello: a create that fails in between must not
# leave it waiting on its stdin.
@test "startup: a create that fails before the init exists leaves no tether-netd waiting for its state" {
    annotate run.tether.network.allowLocalOutboundPorts 1
    # No CPU of this number: writing cpuset.cpus fails, after the cgroup is
    # made and before the init is cloned.
    update_config '.linux.resources.cpu.cpus = "4095"'
    set_args true
    runtime --debug --log "$TEST_DIR/debug.log" create --bundle "$BUNDLE" "$ID"
    assert_failed_leaving_nothing "cpus"
    grep -q 'step create: tether-netd started' "$TEST_DIR/debug.log" ||
        fail "tether-netd was not started before the failure: $(grep 'step create' "$TEST_DIR/debug.log")"
}
