#!/usr/bin/env bats
# Transparent egress (issue 21): programs that ignore the proxy variables
# connect straight to an address; the kernel (connect4/6) sends the connect
# to tether-netd's transparent listener, which reads the SNI or the Host and
# lets it through only when the name is allowlisted and the name's own
# addresses (resolved on the host side) include the address connected to.
#
# Nothing leaves the machine. The runtime, its tether-netd and every server
# run in a network namespace of the test's own ("the host"), where
# 192.0.2.10, .20 and .30 (TEST-NET-1) are addresses of its lo, and in a
# private mount namespace whose /etc/hosts is the test's. The container has
# its own network namespace with only lo: without the redirect nothing in it
# could reach 192.0.2.x at all. allowPrivateUpstreams=192.0.2.0/24 lets the
# proxy dial those (reserved) addresses.

load sandbox_helpers

setup() {
    sandbox_setup
    allowlisted_testnet tether-tpt 192.0.2.10 192.0.2.20 192.0.2.30 <<'HOSTS'
127.0.0.1 localhost
192.0.2.10 allowed.test secure.allowed.test
192.0.2.20 other.test
192.0.2.30 ssh.test
HOSTS
    # The container resolves the same names from its own /etc/hosts.
    cp "$TEST_DIR/hosts" "$BUNDLE/rootfs/etc/hosts"
    mkdir -p "$TEST_DIR/www"
    echo "hello from 192.0.2.10" >"$TEST_DIR/www/hello.txt"
}
teardown() { sandbox_teardown; }

# An HTTP server for $TEST_DIR/www that counts the requests it answered.
_HTTP_SERVER=$_COUNTER'
import http.server, functools, os, sys
addr, port, root, base = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k):
        super().__init__(*a, directory=root, **k)
    def do_GET(self):
        count_one()
        super().do_GET()
server = http.server.HTTPServer((addr, port), Handler)
open(base + ".ready", "w").close()
server.serve_forever()
'

# An ssh-like server: says its banner first, then answers the client's
# first line with "ECHO <line>" (the client need not speak first).
_BANNER_SERVER=$_COUNTER'
import socket, sys, os
addr, port, base = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.listen(16)
def banner_then_echo(c):
    c.sendall(b"SSH-2.0-tether_test\r\n")
    line = c.makefile("rb").readline()
    c.sendall(b"ECHO " + line)
    c.close()
accept_and_count(s, banner_then_echo)
'

http_server() { ns_server "$1" "$_HTTP_SERVER" "$2" "$3" "$TEST_DIR/www"; }
tcp_server() { ns_server "$1" "$_TCP_SERVER" "$2" "$3"; }

tls_server() {
    command -v openssl >/dev/null || skip "openssl is not installed"
    openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=secure.allowed.test -days 1 \
        -keyout "$TEST_DIR/key.pem" -out "$TEST_DIR/cert.pem" 2>/dev/null
    # (SECLEVEL=0: busybox ssl_client offers only a few TLS 1.2 suites.)
    # nsenter itself, not in_testnet: $! is then timeout's pid, which passes
    # sandbox_teardown's kill on to openssl (a function would run in a
    # subshell, and the kill would stop only that).
    nsenter --net=/var/run/netns/"$NETNS" timeout 120 openssl s_server -accept "$1:$2" -cert "$TEST_DIR/cert.pem" \
        -key "$TEST_DIR/key.pem" -www -quiet -cipher ALL:@SECLEVEL=0 </dev/null >/dev/null 2>&1 3>&- &
    echo $! >>"$TEST_DIR/server-pids"
    local i
    for ((i = 0; i < 100; i++)); do
        in_testnet bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "openssl s_server never listened"
}

# The container's script: no proxy variables at all, whatever tether sets.
NOPROXY='unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy NO_PROXY no_proxy;'

# run_direct SCRIPT: `run` the container with SCRIPT (after NOPROXY).
run_direct() {
    set_args sh -c "$NOPROXY $1"
    runtime_bin "$WRAP" "$ROOT" "${@:2}" run --bundle "$BUNDLE" "$ID"
}

# raw_http ADDR PORT HOST: a GET sent with nc straight to ADDR:PORT.
raw_http() {
    echo "printf 'GET /hello.txt HTTP/1.1\\r\\nHost: $3\\r\\nConnection: close\\r\\n\\r\\n' | timeout 10 nc $1 $2"
}

# tls_to ADDR PORT SNI: a TLS exchange (busybox ssl_client) straight to
# ADDR:PORT with SNI; prints the response or "tls failed".
tls_to() {
    cat >"$BUNDLE/rootfs/tls.sh" <<SH
#!/bin/sh
exec 3<&0 4>&1
printf 'GET / HTTP/1.0\r\n\r\n' | ssl_client -s 4 -r 3 -n $3 >/tmp/tls-body 2>&1
SH
    chmod +x "$BUNDLE/rootfs/tls.sh"
    echo "timeout 20 nc $1 $2 -e /tls.sh; grep -q s_server /tmp/tls-body && echo tls ok || echo tls failed"
}

# decisions_of PROTOCOL_PREFIX: the proxy's lines for transparent connections.
transparent_lines() {
    jq -c 'select(.syscall == "proxy" and (.protocol | startswith("transparent")))
           | [.protocol, .address, .upstream, .verdict, .rule]' "$ROOT/$ID/decisions.jsonl"
}

@test "transparent: plain HTTP straight to an allowlisted name's address, no proxy variables" {
    http_server web 192.0.2.10 8080
    run_direct "env | grep -ci proxy; $(raw_http 192.0.2.10 8080 allowed.test); echo; wget -q -O - http://allowed.test:8080/hello.txt"
    assert_success
    assert_line --index 0 0
    assert_line "hello from 192.0.2.10"
    [[ $(grep -c "hello from" <<<"$output") == 2 ]]
    [[ $(server_count web) == 2 ]]
}

@test "transparent: TLS straight to an allowlisted name's address, SNI checked" {
    tls_server 192.0.2.10 8443
    run_direct "$(tls_to 192.0.2.10 8443 secure.allowed.test)"
    assert_success
    assert_line "tls ok"
}

@test "transparent: a name outside the list is refused (403 for HTTP), nothing reaches its server" {
    http_server other 192.0.2.20 8080
    run_direct "$(raw_http 192.0.2.20 8080 other.test)"
    assert_success
    assert_output --partial "HTTP/1.1 403"
    assert_output --partial "other.test denied by rule not-in-allowedDomains"
    refute_output --partial "hello from"
    [[ $(server_count other) == 0 ]]
}

@test "transparent: an allowed SNI sent to another name's address is domain fronting, refused" {
    tls_server 192.0.2.10 8443
    tcp_server other 192.0.2.20 8443
    run_direct "$(tls_to 192.0.2.20 8443 secure.allowed.test)"
    assert_success
    assert_line "tls failed"
    [[ $(server_count other) == 0 ]]
}

@test "transparent: an HTTP Host naming an allowed domain, sent to another address, is refused" {
    http_server other 192.0.2.20 8080
    run_direct "$(raw_http 192.0.2.20 8080 allowed.test)"
    assert_success
    assert_output --partial "HTTP/1.1 403"
    assert_output --partial "name-not-at-destination:192.0.2.20"
    [[ $(server_count other) == 0 ]]
}

@test "transparent: the name's own address, but not public and not in allowPrivateUpstreams, is refused" {
    annotate run.tether.network.allowPrivateUpstreams ""
    http_server web 192.0.2.10 8080
    run_direct "$(raw_http 192.0.2.10 8080 allowed.test)"
    assert_success
    assert_output --partial "HTTP/1.1 403"
    assert_output --partial "private-address:reserved:192.0.2.10"
    [[ $(server_count web) == 0 ]]
}

@test "transparent: a connection that sends nothing is closed after the head timeout, nothing dialled" {
    tcp_server web 192.0.2.10 8080
    # nc's stdin is a fifo a background sleep keeps open: nc itself never
    # ends the connection.
    run_direct "mkfifo /tmp/held; sleep 20 >/tmp/held & start=\$(date +%s); timeout 15 nc 192.0.2.10 8080 </tmp/held; echo \"elapsed=\$((\$(date +%s) - start))\"" \
        --proxy-request-head-timeout 1s
    assert_success
    [[ $(sed -n 's/^elapsed=//p' <<<"$output") -lt 10 ]]
    [[ $(server_count web) == 0 ]]
}

@test "transparent: each decision names the original destination, the name, the rule and the verdict" {
    http_server web 192.0.2.10 8080
    set_args sh -c "$NOPROXY $(raw_http 192.0.2.10 8080 allowed.test) >/dev/null; $(raw_http 192.0.2.10 8080 other.test) >/dev/null; $(raw_http 192.0.2.20 8080 allowed.test) >/dev/null; sleep 3600"
    runtime_bin "$WRAP" "$ROOT" create --bundle "$BUNDLE" "$ID"
    assert_success
    runtime start "$ID"
    assert_success
    local i
    for ((i = 0; i < 100; i++)); do
        [[ $(grep -c '"protocol":"transparent' "$ROOT/$ID/decisions.jsonl" 2>/dev/null) -ge 3 ]] && break
        sleep 0.1
    done
    run transparent_lines
    assert_line '["transparent-http","allowed.test","192.0.2.10:8080","allow","allowedDomains:allowed.test"]'
    assert_line '["transparent-http","other.test","192.0.2.10:8080","deny","not-in-allowedDomains"]'
    assert_line '["transparent-http","allowed.test","192.0.2.20:8080","deny","name-not-at-destination:192.0.2.20"]'
}

@test "transparent: UDP to the outside stays refused; a connect to the listener itself names nothing" {
    # Port 443: QUIC. (Port 53 goes to the DNS responder: sandbox_dns.bats.)
    run_direct "probe udp 192.0.2.10 443; probe udpconnect 192.0.2.10 443; $(raw_http 127.0.0.1 3129 allowed.test); echo nc=\$?"
    assert_success
    assert_line --index 0 "EACCES"
    assert_line --index 1 "EACCES"
    refute_output --partial "hello from"
}

@test "transparent: run.tether.network.transparent=false refuses direct connects (EACCES), as before" {
    annotate run.tether.network.transparent false
    http_server web 192.0.2.10 8080
    run_direct "probe connect 192.0.2.10 8080; true"
    assert_success
    assert_line "EACCES"
    [[ $(server_count web) == 0 ]]
}

@test "transparent: the administrator's transparentEgress=false turns it off" {
    mkdir -p "$TEST_DIR/log"
    echo "{\"transparentEgress\": false, \"decisionLogDirectory\": \"$TEST_DIR/log\"}" >"$TEST_DIR/admin.json"
    http_server web 192.0.2.10 8080
    run_direct "probe connect 192.0.2.10 8080; true" "--admin-config=$TEST_DIR/admin.json"
    assert_success
    assert_line "EACCES"
}

@test "transparent: host network: redirected to a host loopback port, same checks" {
    host_network
    http_server web 192.0.2.10 8080
    http_server other 192.0.2.20 8080
    run_direct "wget -q -O - http://allowed.test:8080/hello.txt; $(raw_http 192.0.2.20 8080 allowed.test)"
    assert_success
    assert_line "hello from 192.0.2.10"
    assert_output --partial "name-not-at-destination:192.0.2.20"
    [[ $(server_count web) == 1 ]]
    [[ $(server_count other) == 0 ]]
}

@test "transparent: without the kernel programs (bestEffort), direct connects stay refused" {
    # The host network, where 192.0.2.10 is directly reachable: only the
    # sandbox stands between the container and the server.
    host_network
    annotate run.tether.sandbox.bestEffort true
    http_server web 192.0.2.10 8080
    KNOB=TETHER_TEST_SOCKET_BPF=off run_direct "probe connect 192.0.2.10 8080; true"
    assert_success
    assert_line "EACCES"
    [[ $(server_count web) == 0 ]]
}

@test "transparent: the CONNECT path (proxy variables) works as before next to it" {
    http_server web 192.0.2.10 8080
    set_args sh -c "timeout 10 wget -q -O - http://allowed.test:8080/hello.txt"
    runtime_bin "$WRAP" "$ROOT" run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output "hello from 192.0.2.10"
}

@test "allowedHosts: a server-first TCP protocol to a listed host:port works, another port is refused" {
    annotate run.tether.network.allowedHosts "ssh.test:2222"
    ns_server ssh "$_BANNER_SERVER" 192.0.2.30 2222
    ns_server ssh2 "$_BANNER_SERVER" 192.0.2.30 2223
    run_direct "(echo SSH-2.0-client | timeout 10 nc 192.0.2.30 2222; echo SSH-2.0-client | timeout 10 nc 192.0.2.30 2223; echo second=\$?) | tr -d '\r'"
    assert_success
    assert_line --index 0 "SSH-2.0-tether_test"
    assert_line --index 1 "ECHO SSH-2.0-client"
    [[ $(server_count ssh) == 1 ]]
    [[ $(server_count ssh2) == 0 ]]
}

@test "allowedHosts: reachable through CONNECT on its port only" {
    annotate run.tether.network.allowedHosts "ssh.test:2222"
    ns_server ssh "$_BANNER_SERVER" 192.0.2.30 2222
    set_args sh -c "(printf 'CONNECT ssh.test:2222 HTTP/1.1\\r\\n\\r\\nSSH-2.0-client\\n' | timeout 10 nc 127.0.0.1 3128; printf 'CONNECT ssh.test:2223 HTTP/1.1\\r\\n\\r\\n' | timeout 10 nc 127.0.0.1 3128) | tr -d '\\r'"
    runtime_bin "$WRAP" "$ROOT" run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line --partial "HTTP/1.1 200"
    assert_line "SSH-2.0-tether_test"
    assert_line "ECHO SSH-2.0-client"
    assert_line --partial "HTTP/1.1 403"
}
