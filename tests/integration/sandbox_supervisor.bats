#!/usr/bin/env bats
# The seccomp-notify supervisor (inside tether-netd) in real containers on
# the HOST network, where 127.0.0.1 is the host's and only the supervisor
# decides which host loopback ports the sandbox reaches. Every denied
# destination has a live server behind it that counts what reaches it, and
# the same probe from the host (the control) does reach it.

load sandbox_helpers

# supervised_host_container ALLOWED_PORTS: host network, a network policy.
supervised_host_container() {
    host_network
    annotate run.tether.network.allowLocalOutboundPorts "$1"
}

@test "supervisor: host loopback reachable only on listed ports, whatever the address form" {
    allowed=$(free_port)
    denied=$(free_port)
    start_tcp_server ok :: "$allowed"
    start_tcp_server bad :: "$denied"
    # Controls: from the host every form reaches the denied server.
    for addr in 127.0.0.1 127.0.0.2 ::1 ::ffff:127.0.0.1 0.0.0.0; do
        run host_probe connect "$addr" "$denied"
        assert_output OK
    done
    [[ $(server_count bad) == 5 ]]
    echo 0 >"$TEST_DIR/bad.count.base"

    supervised_host_container "$allowed"
    probes "allowed probe connect 127.0.0.1 $allowed" \
        "allowed6 probe connect6 ::1 $allowed" \
        "v4 probe connect 127.0.0.1 $denied" \
        "v4alt probe connect 127.0.0.2 $denied" \
        "v6 probe connect6 ::1 $denied" \
        "mapped probe connect6 ::ffff:127.0.0.1 $denied" \
        "any probe connect 0.0.0.0 $denied" \
        "any6 probe connect6 :: $denied"
    run_container
    assert_line "allowed OK"
    assert_line "allowed6 OK"
    assert_line "v4 ECONNREFUSED"
    assert_line "v4alt ECONNREFUSED"
    assert_line "v6 ECONNREFUSED"
    assert_line "mapped ECONNREFUSED"
    assert_line "any ECONNREFUSED"
    assert_line "any6 ECONNREFUSED"
    [[ $(server_count ok) == 2 ]] || fail "allowed server saw $(server_count ok) connections, expected 2"
    [[ $(server_count bad) == 5 ]] || fail "the denied server was reached from the sandbox"
}

@test "supervisor: UDP to a non-listed loopback port is refused and nothing arrives" {
    allowed=$(free_port)
    port=$(free_port udp)
    start_udp_server udp 127.0.0.1 "$port"
    run host_probe udp 127.0.0.1 "$port"
    assert_output OK
    for ((i = 0; i < 50; i++)); do [[ $(server_count udp) == 1 ]] && break; sleep 0.1; done
    [[ $(server_count udp) == 1 ]]

    supervised_host_container "$allowed"
    probes "udp probe udp 127.0.0.1 $port" "udp6 probe udp ::ffff:127.0.0.1 $port"
    run_container
    assert_line "udp ECONNREFUSED"
    assert_line "udp6 ECONNREFUSED"
    # A datagram in flight would have arrived long before the container's
    # teardown finished; the count is read after it.
    [[ $(server_count udp) == 1 ]] || fail "a datagram from the sandbox arrived"
}

@test "supervisor: bind of an allowed port works, an unlisted port is refused, its own server is reachable" {
    allowed=$(free_port)
    bindport=$(free_port)
    other=$(free_port)
    supervised_host_container "$allowed"
    annotate run.tether.network.allowBindPorts "$bindport"
    probes "bind probe bind $bindport" \
        "bindother probe bind $other" \
        "own probe bindconnect $bindport"
    run_container
    assert_line "bind OK"
    assert_line "bindother EACCES"
    assert_line "own OK"
}

@test "supervisor: flipping the sockaddr during thousands of connects never reaches the denied server" {
    allowed=$(free_port)
    denied=$(free_port)
    start_tcp_server ok 127.0.0.1 "$allowed"
    start_tcp_server bad 127.0.0.1 "$denied"
    supervised_host_container "$allowed"
    set_args probe race 127.0.0.1 "$allowed" "$denied" 3000
    run_container
    assert_success
    assert_output --regexp '^connected=[0-9]+ failed=[0-9]+$'
    connected=$(sed -E 's/^connected=([0-9]+).*/\1/' <<<"$output")
    [[ $connected -gt 0 ]] || fail "no connect succeeded: the race never hit the allowed port"
    # Every accepted connection has been counted once the client closed it;
    # wait for the allowed server to catch up (a bound, not a timing check).
    for ((i = 0; i < 100; i++)); do [[ $(server_count ok) == "$connected" ]] && break; sleep 0.1; done
    [[ $(server_count bad) == 0 ]] || fail "the denied server accepted $(server_count bad) connections"
    assert_equal "$(server_count ok)" "$connected"
}

@test "supervisor: a non-blocking connect behaves as without the supervisor" {
    allowed=$(free_port)
    closed=$(free_port)
    start_tcp_server ok 127.0.0.1 "$allowed"
    probes "listening probe nbconnect 127.0.0.1 $allowed" "closed probe nbconnect 127.0.0.1 $closed"

    # Control: host network, no policy.
    host_network
    run_container
    plain_listening=$(grep '^listening ' <<<"$output")
    plain_closed=$(grep '^closed ' <<<"$output")
    [[ $plain_listening == "listening EINPROGRESS OK" || $plain_listening == "listening OK OK" ]]
    [[ $plain_closed == "closed EINPROGRESS ECONNREFUSED" || $plain_closed == "closed ECONNREFUSED ECONNREFUSED" ]]

    annotate run.tether.network.allowLocalOutboundPorts "$allowed,$closed"
    run_container "$(new_id)"
    assert_line "$plain_listening"
    assert_line "$plain_closed"
}

@test "supervisor: a connect that never completes does not delay another process's connect" {
    stuck=$(free_port)
    allowed=$(free_port)
    start_stuck_server stuck "$stuck"
    start_tcp_server ok 127.0.0.1 "$allowed"
    # Control: from the host, a connect to the stuck port does not complete.
    run timeout 2 "$PROBE_CACHE" connect 127.0.0.1 "$stuck"
    assert_failure 124

    supervised_host_container "$stuck,$allowed"
    # The first probe hangs in connect (syscall 42, in the supervisor or in
    # the kernel); once it is there, the second must complete on its own,
    # bounded by a timeout far below the hung one's SYN retries (~2 min).
    cat >"$BUNDLE/rootfs/hang.sh" <<EOF
probe connect 127.0.0.1 $stuck >/dev/null &
hung=\$!
i=0
until [ "\$(cut -d' ' -f1 /proc/\$hung/syscall 2>/dev/null)" = 42 ]; do
    i=\$((i + 1)); [ \$i -lt 200 ] || { echo never-hung; exit 1; }
    sleep 0.05
done
printf 'other '; timeout 15 probe connect 127.0.0.1 $allowed || echo timed-out
kill \$hung
EOF
    set_args sh /hang.sh
    run_container
    assert_line "other OK"
    [[ $(server_count ok) == 1 ]]
}

@test "supervisor: in a network namespace of the test's, loopback works and a TEST-NET address is unreachable" {
    NETNS=tether-sbt-$$-$RANDOM
    ip netns add "$NETNS"
    ip -n "$NETNS" link set lo up
    ip -n "$NETNS" addr add 192.0.2.1/32 dev lo
    port=$(free_port)
    # A server in the namespace on the TEST-NET address: only the sandbox's
    # policy can stop the connect.
    ip netns exec "$NETNS" python3 -c "$_TCP_SERVER" 192.0.2.1 "$port" "$TEST_DIR/testnet" \
        </dev/null >"$TEST_DIR/testnet.log" 2>&1 3>&- &
    echo $! >>"$TEST_DIR/server-pids"
    echo 0 >"$TEST_DIR/testnet.count"
    for ((i = 0; i < 100; i++)); do [[ -f $TEST_DIR/testnet.ready ]] && break; sleep 0.1; done
    [[ -f $TEST_DIR/testnet.ready ]] || fail "server in $NETNS never listened"
    # Control: in the namespace, unconfined, the address is reachable.
    run ip netns exec "$NETNS" "$PROBE_CACHE" connect 192.0.2.1 "$port"
    assert_output OK

    _jq_config '(.linux.namespaces[] | select(.type == "network")).path = $path' --arg path "/var/run/netns/$NETNS"
    annotate run.tether.network.allowBindPorts "$port"
    probes "ownserver probe bindconnect $port" "testnet probe connect 192.0.2.1 $port"
    run_container
    assert_line "ownserver OK"
    refute_line "testnet OK"
    assert_line --regexp '^testnet (EACCES|ECONNREFUSED|EPERM|ENETUNREACH)$'
    [[ $(server_count testnet) == 1 ]] || fail "the sandbox reached 192.0.2.1:$port"
}

@test "supervisor: 'tether events --decisions' shows the allowed and the denied connect" {
    allowed=$(free_port)
    denied=$(free_port)
    start_tcp_server ok 127.0.0.1 "$allowed"
    supervised_host_container "$allowed"
    probes "allowed probe connect 127.0.0.1 $allowed" "denied probe connect 127.0.0.1 $denied"
    update_config '.process.args = ["sh", "-c", "sh /probes.sh; sleep 3600"]'
    create_running
    for ((i = 0; i < 100; i++)); do grep -q '^denied ' "$(_output_file "$ID")" && break; sleep 0.1; done
    run container_output "$ID"
    assert_line "allowed OK"
    assert_line "denied ECONNREFUSED"
    # (Allowed calls' lines are batched in the daemon; events asks it to
    # write them out first: FLUSH.)
    run runtime events --decisions "$ID"
    assert_success
    assert_line --regexp "127\.0\.0\.1:$allowed +allow +host-loopback-port"
    assert_line --regexp "127\.0\.0\.1:$denied +deny +host-loopback-port-not-listed"
}

@test "supervisor: audit mode allows and logs the decision in decisions.jsonl" {
    denied=$(free_port)
    start_tcp_server bad 127.0.0.1 "$denied"
    host_network
    annotate run.tether.network.allowLocalOutboundPorts 5432
    annotate run.tether.sandbox.mode audit
    probes "audited probe connect 127.0.0.1 $denied"
    update_config '.process.args = ["sh", "-c", "sh /probes.sh; sleep 3600"]'
    create_running
    for ((i = 0; i < 100; i++)); do grep -q '^audited ' "$(_output_file "$ID")" && break; sleep 0.1; done
    run container_output "$ID"
    assert_line "audited OK"
    [[ $(server_count bad) == 1 ]]
    log=$ROOT/$ID/decisions.jsonl
    [[ -s $log ]] || fail "no decision log at $log"
    run jq -c "select(.port == $denied and .verdict == \"audit-deny\")" "$log"
    assert_success
    [[ -n $output ]] || fail "no decision about port $denied in $log: $(cat "$log")"
}
