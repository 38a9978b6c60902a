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

# assert_closures_refused: the output of CLOSURE_PROBES shows every closed
# path refused, each with the errno its closure gives.
assert_closures_refused() {
    assert_line "iouring ENOSYS"
    assert_line "raw EPERM"
    assert_line "packet EAFNOSUPPORT"
    assert_line "mptcp EPROTONOSUPPORT"
}

@test "sandbox closures: io_uring, raw, packet and MPTCP sockets are refused" {
    annotate run.tether.network.allowLocalOutboundPorts 5432
    probes "${CLOSURE_PROBES[@]}"
    run_container
    assert_closures_refused
}

@test "sandbox closures: a filesystem-only policy closes the same paths" {
    annotate run.tether.filesystem.denyRead /root
    probes "${CLOSURE_PROBES[@]}"
    run_container
    assert_closures_refused
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

# The compiled closures are cached in the state root (issue 23,
# runtime/sandbox/seccomp_cache.hpp). A cached file is loaded as the
# sandbox's filter, so one the runtime did not write for exactly this
# binary, kernel and policy must never be: the attacks below plant the audit
# mode's program (it only logs: every closed path opens) where the enforcing
# one belongs.
CACHE_TOOL=$INTEGRATION_ROOT/tools/seccomp_cache.py

cache_file() { echo "$ROOT/.tether-seccomp-cache/$1"; }

# enforcing_and_audit_cached: run once in audit mode and once enforcing, so
# that both programs are in this test's cache.
enforcing_and_audit_cached() {
    annotate run.tether.filesystem.denyRead /root
    probes "${CLOSURE_PROBES[@]}"
    annotate run.tether.sandbox.mode audit
    run_container
    annotate run.tether.sandbox.mode enforce
    run_container
    assert_line "iouring ENOSYS"
    [[ -f $(cache_file closures) && -f $(cache_file closures-audit) ]]
}

@test "sandbox closures: the compiled program is cached in the state root, root's only, and used again" {
    annotate run.tether.filesystem.denyRead /root
    probes "${CLOSURE_PROBES[@]}"
    run_container
    assert_line "iouring ENOSYS"
    assert_equal "$(stat -c '%a %u' "$ROOT/.tether-seccomp-cache")" "700 0"
    assert_equal "$(stat -c '%a %u %F' "$(cache_file closures)")" "600 0 regular file"
    local inode
    inode=$(stat -c %i "$(cache_file closures)")
    run_container
    assert_line "iouring ENOSYS"
    # A hit: the file was read, not written again.
    assert_equal "$(stat -c %i "$(cache_file closures)")" "$inode"
    # `list` does not take the cache for a container.
    runtime list -q
    assert_output ""
}

@test "sandbox closures: another policy's cached program (audit) is not loaded" {
    enforcing_and_audit_cached
    cp "$(cache_file closures-audit)" "$(cache_file closures)"
    run_container
    assert_line "iouring ENOSYS"
    assert_line "packet EAFNOSUPPORT"
}

@test "sandbox closures: a cached program whose checksum does not match is compiled again" {
    enforcing_and_audit_cached
    python3 "$CACHE_TOOL" splice "$(cache_file closures)" "$(cache_file closures-audit)" "$TEST_DIR/forged"
    cp "$TEST_DIR/forged" "$(cache_file closures)"
    run_container
    assert_line "iouring ENOSYS"
    assert_line "packet EAFNOSUPPORT"
    # And rewritten: no longer the forged file.
    ! cmp -s "$TEST_DIR/forged" "$(cache_file closures)"
}

@test "sandbox closures: a well-formed cached program that others could write is not loaded" {
    [[ $(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0) == 0 ]] || skip "io_uring is disabled on this host"
    enforcing_and_audit_cached
    # The audit program under the enforcing key with a valid checksum: only
    # who wrote it tells it from the runtime's own.
    python3 "$CACHE_TOOL" splice "$(cache_file closures)" "$(cache_file closures-audit)" "$TEST_DIR/forged"
    python3 "$CACHE_TOOL" resign "$TEST_DIR/forged"
    local file
    file=$(cache_file closures)
    for owner in 65534:0 0:0; do
        for mode in 600 620 602; do
            [[ $owner:$mode == 0:0:600 ]] && continue
            cp "$TEST_DIR/forged" "$file"
            chown "$owner" "$file"
            chmod "$mode" "$file"
            run_container
            assert_line "iouring ENOSYS"
        done
    done
    # The control: the same file owned by root and writable by root only IS
    # loaded (root can replace the tether binary as well), so the refusals
    # above were the owner and mode checks.
    cp "$TEST_DIR/forged" "$file"
    chown 0:0 "$file"
    chmod 600 "$file"
    run_container
    assert_line "iouring OK"
}
