#!/usr/bin/env bats
# The static seccomp closures in a real container: the paths around the
# network policy (io_uring, raw and packet sockets, MPTCP, 32-bit syscalls)
# are closed in a sandbox and open without one (the control that proves
# each denial is the sandbox's doing). The container has CAP_NET_RAW.

load sandbox_helpers

CLOSURE_PROBES=(
    "iouring probe iouring"
    "raw probe raw"
    "packet probe packet"
    "mptcp probe mptcp 127.0.0.1 $((40000 + RANDOM % 20000))"
)

# The host network: a new network namespace's lo is down (no route for the
# MPTCP control), and on the host network an MPTCP connect would get past
# Landlock's TCP port rules.
setup() {
    sandbox_setup
    host_network
}

@test "sandbox closures: io_uring, raw, packet and MPTCP sockets are refused" {
    annotate run.tether.network.allowLocalOutboundPorts 5432
    probes "${CLOSURE_PROBES[@]}"
    run_container
    assert_line "iouring ENOSYS"
    assert_line "raw EPERM"
    assert_line "packet EAFNOSUPPORT"
    assert_line "mptcp EPROTONOSUPPORT"
}

@test "sandbox closures: a filesystem-only policy closes the same paths" {
    annotate run.tether.filesystem.denyRead /root
    probes "${CLOSURE_PROBES[@]}"
    run_container
    assert_line "iouring ENOSYS"
    assert_line "raw EPERM"
    assert_line "packet EAFNOSUPPORT"
    assert_line "mptcp EPROTONOSUPPORT"
}

@test "sandbox closures: without a policy the same calls succeed (control)" {
    [[ $(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0) == 0 ]] || skip "io_uring is disabled on this host"
    probes "${CLOSURE_PROBES[@]}"
    run_container
    assert_line "iouring OK"
    assert_line "raw OK"
    assert_line "packet OK"
    # MPTCP reaches the stack: a closed port answers.
    assert_line "mptcp ECONNREFUSED"
}

@test "sandbox closures: a 32-bit int 0x80 getpid does not return the pid" {
    annotate run.tether.network.allowLocalOutboundPorts 5432
    probes "i386 probe i386"
    run_container
    # ENOSYS from the closure; SIGSEGV on kernels without ia32 emulation
    # (the test VM), with or without a filter. Never the pid.
    assert_line --regexp '^i386 (ENOSYS|SIGNAL11|SIGNAL31)$'
    refute_line "i386 OK"
}
