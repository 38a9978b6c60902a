#!/usr/bin/env bats
# tether-tests: serial (counts every tether_ BPF program and map on the host with bpftool)
# Kernel enforcement (hooks/bpf): the cgroup socket-address programs decide
# every inet connect, datagram send and bind of a network sandbox at the
# moment of the real call. Each refusal has a live server behind it that
# counts what reaches it; the races are also run with the programs switched
# off (TETHER_TEST_SOCKET_BPF=off, the runtime's environment, tests only) to
# show that they would succeed without them.

load sandbox_helpers

kernel_setup() {
    sandbox_setup
    command -v nsenter >/dev/null || skip "nsenter (util-linux) is needed"
    [[ -n $(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo) ]] ||
        skip "no cgroup v2 hierarchy: kernel enforcement is unavailable on this host"
}
setup() { kernel_setup; }

# in_test_netns: a network namespace of the test's with lo up. The runtime,
# its tether-netd and the servers all run there, so that the sandbox is on
# the "host" network and its 127.0.0.1 is the test's own.
in_test_netns() {
    NETNS=tether-kbt-$$-$RANDOM
    ip netns add "$NETNS"
    ip -n "$NETNS" link set lo up
    # nsenter, not `ip netns exec`: that one remounts /sys, and the runtime
    # needs the host's /sys/fs/cgroup.
    NS_RUNTIME=$TEST_DIR/runtime-in-netns
    printf '#!/bin/sh\nexec nsenter --net=/var/run/netns/%s env %s %s "$@"\n' \
        "$NETNS" "${KNOB:-TETHER_TEST_SOCKET_BPF=on}" "$RUNTIME" >"$NS_RUNTIME"
    chmod +x "$NS_RUNTIME"
}

# ns_udp_server NAME PORT: a counting UDP server on 127.0.0.1 in the test's namespace.
ns_udp_server() {
    _start_server "$1" "$_UDP_SERVER" 127.0.0.1 "$2"
}

# run_probes_detached LAST_LABEL: create and start the bundle, whose process
# runs the probes and then sleeps (so that its decision log is still there),
# and wait until LAST_LABEL's line is out; $output is what it printed.
run_probes_detached() {
    update_config '.process.args = ["sh", "-c", "sh /probes.sh; sleep 3600"]'
    create_running
    for ((i = 0; i < 100; i++)); do grep -q "^$1 " "$(_output_file "$ID")" && break; sleep 0.1; done
    run container_output "$ID"
}

# decisions JQ_FILTER: the container's decision lines through jq -r, after
# asking the daemon to write out what is waiting (events --decisions).
decisions() {
    runtime events --decisions "$ID" >/dev/null
    run jq -r "$1" "$ROOT/$ID/decisions.jsonl"
}

# fd_swap_race SECONDS: the attack of issue 16 (probe fdswap) against an
# unlisted port U while port A is listed; sets $sent from the probe's line.
fd_swap_race() {
    local seconds=$1
    in_test_netns
    allowed=$(free_port udp)
    target=$(free_port udp)
    # The server runs in the namespace (its count file is the test's).
    nsenter --net=/var/run/netns/"$NETNS" python3 -c "$_UDP_SERVER" 127.0.0.1 "$target" "$TEST_DIR/target" \
        </dev/null >"$TEST_DIR/target.log" 2>&1 3>&- &
    echo $! >>"$TEST_DIR/server-pids"
    echo 0 >"$TEST_DIR/target.count"
    for ((i = 0; i < 100; i++)); do [[ -f $TEST_DIR/target.ready ]] && break; sleep 0.1; done
    [[ -f $TEST_DIR/target.ready ]] || fail "UDP server never listened"
    # Control: from the namespace, unconfined, the port is reachable.
    run nsenter --net=/var/run/netns/"$NETNS" "$PROBE_CACHE" udp 127.0.0.1 "$target"
    assert_output OK
    for ((i = 0; i < 50; i++)); do [[ $(server_count target) == 1 ]] && break; sleep 0.1; done
    [[ $(server_count target) == 1 ]] || fail "the control datagram did not arrive"
    echo 0 >"$TEST_DIR/target.count"

    host_network
    annotate run.tether.network.allowLocalOutboundPorts "$allowed"
    [[ -n ${EXTRA_ANNOTATION:-} ]] && annotate ${EXTRA_ANNOTATION}
    probes "race probe fdswap 127.0.0.1 /tmp $target $seconds"
    runtime_bin "$NS_RUNTIME" "$ROOT" run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line --regexp '^race sent=[0-9]+ errors=[0-9]+$'
    sent=$(sed -nE 's/^race sent=([0-9]+).*/\1/p' <<<"$output")
    sleep 0.5  # datagrams in flight
}

@test "kernel: the fd-swap race sends no datagram to an unlisted port in 10 seconds" {
    fd_swap_race 10
    # The race ran (the control below shows what it does without the programs).
    attempts=$(sed -nE 's/^race sent=([0-9]+) errors=([0-9]+)$/\1 + \2/p' <<<"$output")
    [[ $((attempts)) -gt 100000 ]] || fail "only $((attempts)) sends were tried"
    [[ $(server_count target) == 0 ]] || fail "$(server_count target) datagrams reached the unlisted port"
}

@test "kernel: the same race with the socket programs switched off reaches the port (the control)" {
    KNOB=TETHER_TEST_SOCKET_BPF=off
    EXTRA_ANNOTATION="run.tether.sandbox.bestEffort true"
    fd_swap_race 10
    [[ $(server_count target) -gt 0 ]] ||
        fail "no datagram got through the supervisor alone: this control should show the race"
    echo "datagrams through the supervisor alone: $(server_count target)" >&3
}

@test "kernel: every way to send is refused to an unlisted port and allowed to a listed one" {
    allowed=$(free_port)
    denied=$(free_port)
    allowed_udp=$(free_port udp)
    denied_udp=$(free_port udp)
    start_tcp_server tcp_ok :: "$allowed"
    start_tcp_server tcp_bad :: "$denied"
    start_udp_server udp_ok :: "$allowed_udp"
    start_udp_server udp_bad :: "$denied_udp"
    # Controls from the host: every denied call below would reach its server.
    for mode in udp udpsendmsg udpsendmmsg udpconnect; do
        run host_probe "$mode" 127.0.0.1 "$denied_udp"
        assert_output OK
    done
    run host_probe tfo 127.0.0.1 "$denied"
    assert_output OK
    sleep 0.3
    [[ $(server_count udp_bad) == 5 ]] || fail "controls: $(server_count udp_bad) datagrams, expected 5"
    [[ $(server_count tcp_bad) == 1 ]]

    host_network
    annotate run.tether.network.allowLocalOutboundPorts "$allowed,$allowed_udp"
    probes "sendto probe udp 127.0.0.1 $denied_udp" \
        "sendmsg probe udpsendmsg 127.0.0.1 $denied_udp" \
        "sendmmsg probe udpsendmmsg 127.0.0.1 $denied_udp" \
        "connectsend probe udpconnect 127.0.0.1 $denied_udp" \
        "mapped probe udp ::ffff:127.0.0.1 $denied_udp" \
        "any probe udp 0.0.0.0 $denied_udp" \
        "any6 probe udp :: $denied_udp" \
        "tcp probe connect 127.0.0.1 $denied" \
        "tfo probe tfo 127.0.0.1 $denied" \
        "tcpmapped probe connect6 ::ffff:127.0.0.1 $denied" \
        "ok_sendto probe udp 127.0.0.1 $allowed_udp" \
        "ok_sendmsg probe udpsendmsg ::1 $allowed_udp" \
        "ok_sendmmsg probe udpsendmmsg 127.0.0.1 $allowed_udp" \
        "ok_connectsend probe udpconnect ::ffff:127.0.0.1 $allowed_udp" \
        "ok_tcp probe connect 127.0.0.1 $allowed" \
        "ok_tfo probe tfo ::1 $allowed"
    run_probes_detached ok_tfo
    for label in sendto sendmsg sendmmsg connectsend mapped any any6 tcp tfo tcpmapped; do
        assert_line "$label ECONNREFUSED"
    done
    for label in ok_sendto ok_sendmsg ok_sendmmsg ok_connectsend ok_tcp ok_tfo; do
        assert_line "$label OK"
    done
    sleep 0.3
    [[ $(server_count udp_bad) == 5 ]] || fail "the unlisted UDP port got $(( $(server_count udp_bad) - 5 )) datagrams"
    [[ $(server_count tcp_bad) == 1 ]] || fail "the unlisted TCP port was reached"
    [[ $(server_count udp_ok) == 5 ]] || fail "the listed UDP port got $(server_count udp_ok) datagrams, expected 5"
    [[ $(server_count tcp_ok) == 2 ]]
    # Each refusal is in the decision log with the caller's pid and command.
    decisions 'select(.verdict == "deny") | "\(.syscall) \(.comm) \(.port) \(.rule)"'
    assert_line "sendmsg probe $denied_udp host-loopback-port-not-listed"
    assert_line "connect probe $denied host-loopback-port-not-listed"
}

# The ring's reader sleeps until a record wakes it (issue 23; it used to
# wake every 5 ms): an allowed call must still reach the log unasked, and an
# idle daemon must not wake but for the proxy's 1 s timeout tick.
@test "kernel: an allowed connect reaches the decision log unasked, and an idle daemon sleeps" {
    allowed=$(free_port)
    start_tcp_server tcp_ok :: "$allowed"
    host_network
    annotate run.tether.network.allowLocalOutboundPorts "$allowed"
    probes "ok_tcp probe connect 127.0.0.1 $allowed"
    run_probes_detached ok_tcp
    assert_line "ok_tcp OK"
    # No `events --decisions` (which drains the ring): the record itself
    # woke the reader.
    local i
    for ((i = 0; i < 30; i++)); do
        # (jq -e succeeds on an empty file: test its output instead.)
        [[ -n $(jq -c --argjson port "$allowed" 'select(.syscall == "connect" and .verdict == "allow" and .port == $port)' \
            "$ROOT/$ID/decisions.jsonl" 2>/dev/null) ]] && break
        sleep 0.1
    done
    ((i < 30)) || fail "the allowed connect was not logged within 3 s: $(cat "$ROOT/$ID/decisions.jsonl")"
    local pid before after
    pid=$(cat "$ROOT/$ID/netd.pid")
    switches() { cat /proc/"$pid"/task/*/status | awk '/^voluntary_ctxt_switches/ { s += $2 } END { print s }'; }
    before=$(switches)
    sleep 2
    after=$(switches)
    ((after - before < 40)) || fail "tether-netd woke $((after - before)) times in 2 s with nothing to do"
}

@test "kernel: audit mode lets every refused call through and logs it as audit-deny" {
    denied=$(free_port)
    denied_udp=$(free_port udp)
    start_tcp_server tcp_bad :: "$denied"
    start_udp_server udp_bad :: "$denied_udp"
    host_network
    annotate run.tether.network.allowLocalOutboundPorts 1
    annotate run.tether.sandbox.mode audit
    probes "sendto probe udp 127.0.0.1 $denied_udp" "sendmmsg probe udpsendmmsg ::1 $denied_udp" \
        "tcp probe connect 127.0.0.1 $denied" "tfo probe tfo 127.0.0.1 $denied"
    run_probes_detached tfo
    assert_line "sendto OK"
    assert_line "sendmmsg OK"
    assert_line "tcp OK"
    assert_line "tfo OK"
    sleep 0.3
    [[ $(server_count udp_bad) == 3 ]]
    [[ $(server_count tcp_bad) == 2 ]]
    decisions 'select(.verdict == "audit-deny") | "\(.syscall) \(.port)"'
    assert_line "sendmsg $denied_udp"
    assert_line "connect $denied"
}

@test "kernel: a sandbox granted CAP_SYS_ADMIN and CAP_BPF cannot touch the programs or leave its cgroup" {
    denied_udp=$(free_port udp)
    start_udp_server udp_bad 127.0.0.1 "$denied_udp"
    host_network
    annotate run.tether.network.allowLocalOutboundPorts 1
    update_config '.process.capabilities |= with_entries(.value += ["CAP_SYS_ADMIN", "CAP_BPF", "CAP_NET_ADMIN"])
        | .process.user = {"uid": 0, "gid": 0}'
    cat >"$BUNDLE/rootfs/escape.sh" <<EOF
printf 'bpf '; probe bpf
printf 'cgroup '; grep '^0::' /proc/self/cgroup
mkdir -p /tmp/cg
mount -t cgroup2 none /tmp/cg && echo \$\$ >/tmp/cg/cgroup.procs && printf 'moved '; grep '^0::' /proc/self/cgroup
printf 'after '; probe udp 127.0.0.1 $denied_udp
EOF
    set_args sh /escape.sh
    run_container
    assert_line "bpf getnextid=EPERM query=EPERM detach=EPERM load=EPERM"
    assert_line "cgroup 0::/"
    assert_line "after ECONNREFUSED"
    sleep 0.3
    [[ $(server_count udp_bad) == 0 ]]
}

@test "kernel: without the socket programs create fails naming what is missing and leaves nothing" {
    host_network
    annotate run.tether.network.allowLocalOutboundPorts 1
    set_args true
    TETHER_TEST_SOCKET_BPF=off runtime create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial "kernel enforcement is unavailable (switched off by TETHER_TEST_SOCKET_BPF=off"
    assert_output --partial "run.tether.sandbox.bestEffort=true"
    assert_no_leftovers "$ID"
}

@test "kernel: with bestEffort and no socket programs the supervisor decides, and the log says so" {
    denied=$(free_port)
    start_tcp_server tcp_bad 127.0.0.1 "$denied"
    host_network
    annotate run.tether.network.allowLocalOutboundPorts 1
    annotate run.tether.sandbox.bestEffort true
    probes "tcp probe connect 127.0.0.1 $denied"
    export TETHER_TEST_SOCKET_BPF=off
    run_probes_detached tcp
    assert_line "tcp ECONNREFUSED"
    decisions 'select(.syscall == "netd") | .rule'
    assert_output --partial "supervisor-only:kernel-enforcement-unavailable-bestEffort"
}

# cgroup2_dir ID: the container's cgroup in the cgroup v2 hierarchy.
cgroup2_dir() {
    echo "$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)$(awk -F: '$1 == "0" {print $3}' \
        "/proc/$(state_field "$1" pid)/cgroup")"
}

# attached_ids ID: the ids of the tether programs on the container's cgroup, sorted.
attached_ids() {
    bpftool -j cgroup show "$(cgroup2_dir "$1")" | jq -c '[.[] | select(.name | startswith("tether_")) | .id] | sort'
}

# One program set for every sandbox (issue 23): the programs read each
# container's rules from its cgroup's storage, and its events go to its own
# ring (a slot of the pool, hooks/bpf/container_slots.hpp). Two sandboxes
# running at once with opposite lists show both: each is held to its own
# list and logs only its own calls. The first makes its calls only once the
# second has written its rules.
@test "kernel: two sandboxes at once share one program set, each held to its own ports and log" {
    command -v bpftool >/dev/null || skip "bpftool (Debian package) is needed to read the attached programs"
    local first=$ID second=$ID-b a b i
    a=$(free_port)
    b=$(free_port)
    start_tcp_server tcp_a :: "$a"
    start_tcp_server tcp_b :: "$b"
    host_network
    annotate run.tether.network.allowLocalOutboundPorts "$a"
    probes "mine probe connect 127.0.0.1 $a" "theirs probe connect 127.0.0.1 $b"
    mv "$BUNDLE/rootfs/probes.sh" "$BUNDLE/rootfs/probes-first.sh"
    rm -f "$BUNDLE/rootfs/go"
    update_config '.process.args = ["sh", "-c", "while [ ! -e /go ]; do sleep 0.05; done; sh /probes-first.sh; sleep 3600"]'
    create_running "$first"
    # The second, created while the first runs, with the other port.
    annotate run.tether.network.allowLocalOutboundPorts "$b"
    probes "mine probe connect 127.0.0.1 $b" "theirs probe connect 127.0.0.1 $a"
    ID=$second
    run_probes_detached theirs
    assert_line "mine OK"
    assert_line "theirs ECONNREFUSED"
    touch "$BUNDLE/rootfs/go"
    for ((i = 0; i < 100; i++)); do grep -q "^theirs " "$(_output_file "$first")" && break; sleep 0.1; done
    run container_output "$first"
    assert_line "mine OK"
    assert_line "theirs ECONNREFUSED"
    [[ $(server_count tcp_a) == 1 && $(server_count tcp_b) == 1 ]] ||
        fail "servers reached: a $(server_count tcp_a), b $(server_count tcp_b), expected 1 each"
    # Each log holds its own refusal only.
    decisions 'select(.verdict == "deny") | .port'
    assert_output "$a"
    ID=$first
    decisions 'select(.verdict == "deny") | .port'
    assert_output "$b"
    # The same programs on both cgroups: the set pinned for every sandbox.
    ids_first=$(attached_ids "$first")
    [[ $ids_first != "[]" && $ids_first == "$(attached_ids "$second")" ]] ||
        fail "programs on the two cgroups: $ids_first and $(attached_ids "$second")"
    pinned=$(bpftool -j prog show pinned "$(ls -d /sys/fs/bpf/tether/*/ | head -1)connect4" | jq .id)
    jq -e --argjson id "$pinned" 'index($id) != null' <<<"$ids_first" >/dev/null ||
        fail "the pinned connect4 ($pinned) is not among the attached programs $ids_first"
}

@test "kernel: the programs go with the cgroup; 500 sandboxed create/delete cycles leave no BPF object" {
    command -v bpftool >/dev/null || skip "bpftool (Debian package) is needed to count BPF objects"
    local cycles=${BPF_CYCLES:-500} before_progs before_maps after_progs after_maps
    host_network
    annotate run.tether.network.allowLocalOutboundPorts 1
    set_args true
    # One container: its programs are attached while it exists.
    runtime create --bundle "$BUNDLE" "$ID"
    assert_success
    [[ $(attached_ids "$ID" | jq length) -ge 6 ]] || fail "programs on $(cgroup2_dir "$ID"): $(attached_ids "$ID")"
    runtime delete --force "$ID"
    before_progs=$(bpftool -j prog list | jq '[.[] | select(.name // "" | startswith("tether_"))] | length')
    before_maps=$(bpftool -j map list | jq '[.[] | select(.name // "" | startswith("tether_"))] | length')
    export -f cycle_sandbox
    export RUNTIME ROOT BUNDLE TEST_DIR
    python3 "$INTEGRATION_ROOT/tools/subreaper.py" bash -c \
        'for ((i = 0; i < $0; i++)); do cycle_sandbox "bpf-$$-$i" || exit 1; done' "$cycles"
    after_progs=$(bpftool -j prog list | jq '[.[] | select(.name // "" | startswith("tether_"))] | length')
    after_maps=$(bpftool -j map list | jq '[.[] | select(.name // "" | startswith("tether_"))] | length')
    echo "tether programs $before_progs -> $after_progs, maps $before_maps -> $after_maps" >&3
    # The programs are the host's pinned set, loaded once: not one more. A
    # container's maps are a slot of a pool that keeps at most 8 free slots
    # of a kind (container_slots.hpp) and frees departed ones: a bounded
    # number, not one per cycle.
    [[ $after_progs -le $before_progs ]] || fail "BPF programs grew by $((after_progs - before_progs))"
    [[ $after_maps -le $((before_maps + 10)) ]] || fail "BPF maps grew by $((after_maps - before_maps))"
}

cycle_sandbox() {
    printf '%s\n' "$1" >>"$TEST_DIR/ids"
    timeout -k 5 30 "$RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" "$1" </dev/null >/dev/null 2>"$TEST_DIR/cycle.err" 3>&- &&
        timeout -k 5 30 "$RUNTIME" --root "$ROOT" delete --force "$1" </dev/null >/dev/null 2>>"$TEST_DIR/cycle.err" 3>&- ||
        { cat "$TEST_DIR/cycle.err" >&2; return 1; }
}

@test "kernel: a process started by exec is held by the same programs, with no notify filter" {
    denied_udp=$(free_port udp)
    start_udp_server udp_bad 127.0.0.1 "$denied_udp"
    host_network
    annotate run.tether.network.allowLocalOutboundPorts 1
    set_args sleep 3600
    create_running
    runtime exec "$ID" sh -c "printf 'udp '; probe udp 127.0.0.1 $denied_udp; grep '^Seccomp_filters:' /proc/self/status"
    assert_line "udp ECONNREFUSED"
    # The closures only: nothing is trapped to tether-netd.
    assert_line --regexp '^Seccomp_filters:[[:space:]]+1$'
    sleep 0.3
    [[ $(server_count udp_bad) == 0 ]]
}
