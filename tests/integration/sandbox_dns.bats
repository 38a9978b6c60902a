#!/usr/bin/env bats
# Allowlist-only DNS (issue 21): with transparent egress in its own network
# namespace, every UDP datagram the container sends to port 53, whatever the
# address, goes (in the kernel) to tether-netd's DNS responder, which
# answers A/AAAA only for allowlisted names with the proxy's own host-side
# answer, NXDOMAIN for other names, REFUSED for other types, and forwards
# nothing.
#
# The fixture is sandbox_transparent.bats's: the runtime and its tether-netd
# run in a network namespace of the test's own ("the host") whose lo has
# 192.0.2.10 and 192.0.2.53, with the test's /etc/hosts (the host-side
# answers). The container has its own namespace with only lo, no /etc/hosts
# entries for the test's names, and a resolv.conf naming 198.51.100.53, an
# address that exists nowhere.

load sandbox_helpers

setup() {
    sandbox_setup
    allowlisted_testnet tether-dns 192.0.2.10 192.0.2.53 <<'HOSTS'
127.0.0.1 localhost
192.0.2.10 allowed.test www.allowed.test git.hosts.test
192.0.2.20 other.test
HOSTS
    echo "127.0.0.1 localhost" >"$BUNDLE/rootfs/etc/hosts"
    echo "nameserver 198.51.100.53" >"$BUNDLE/rootfs/etc/resolv.conf"
}
teardown() { sandbox_teardown; }

# run_in_container SCRIPT: `run` the container; its decisions outlive it in
# the audit trail $TEST_DIR/log/$ID.jsonl (the state dir goes with delete).
run_in_container() {
    mkdir -p "$TEST_DIR/log"
    echo "{\"decisionLogDirectory\": \"$TEST_DIR/log\"}" >"$TEST_DIR/admin.json"
    set_args sh -c "$1"
    runtime_bin "$WRAP" "$ROOT" "--admin-config=$TEST_DIR/admin.json" run --bundle "$BUNDLE" "$ID"
}

# dns_lines: the responder's decisions as [name, qtype, answer, verdict, rule].
dns_lines() {
    jq -c 'select(.syscall == "dns") | [.address, .qtype, .answer, .verdict, .rule]' "$TEST_DIR/log/$ID.jsonl"
}

@test "dns: an allowlisted name gets the host-side answer, another name NXDOMAIN (resolv.conf's server, unreachable, answers)" {
    run_in_container "nslookup allowed.test; echo rc=\$?; nslookup other.test; echo rc=\$?"
    assert_success
    assert_output --partial "Address: 192.0.2.10"
    assert_line --partial "can't find other.test: NXDOMAIN"
    refute_output --partial "192.0.2.20"
    # The reply came from the server asked (recvmsg4 rewrote its source).
    assert_output --partial "Server:		198.51.100.53"
    run dns_lines
    assert_line '["allowed.test","A","192.0.2.10","allow","allowedDomains:allowed.test"]'
    assert_line '["other.test","A","","deny","not-in-allowedDomains"]'
}

@test "dns: a program resolving with the system resolver reaches an allowlisted name transparently" {
    ns_server web "$_HTTP_ONE" 192.0.2.10 8080
    run_in_container "unset http_proxy HTTP_PROXY; timeout 20 wget -q -O - http://www.allowed.test:8080/; echo rc=\$?"
    assert_success
    assert_line "hello from the host side"
    [[ $(server_count web) == 1 ]]
}

@test "dns: TXT and ANY are refused, whatever the name" {
    run_in_container "nslookup -type=txt allowed.test; nslookup -type=any allowed.test; nslookup -type=mx other.test; true"
    assert_success
    [[ $(grep -c "REFUSED" <<<"$output") == 3 ]]
    refute_output --partial "192.0.2.10"
    run dns_lines
    assert_line '["allowed.test","TXT","","deny","dns-type-refused"]'
    assert_line '["allowed.test","ANY","","deny","dns-type-refused"]'
}

@test "dns: a query sent to any resolver address is answered by tether-netd and never leaves; TCP 53 is refused" {
    ns_server resolver_udp "$_UDP_SERVER" 192.0.2.53 53
    ns_server resolver_tcp "$_TCP_SERVER" 192.0.2.53 53
    # TCP 53 is a direct TCP connect: the transparent proxy takes it and,
    # finding no TLS SNI or HTTP Host, resets it without dialling.
    run_in_container "nslookup allowed.test 192.0.2.53; nslookup allowed.test 8.8.8.8; probe dnsflood 192.0.2.53 3; probe dnsflood ::ffff:192.0.2.53 3; probe udp 192.0.2.53 53; echo x | timeout 5 nc 192.0.2.53 53; echo tcp done"
    assert_success
    [[ $(grep -c "Address: 192.0.2.10" <<<"$output") == 2 ]]
    # Each reply comes from the address the query went to (recvmsg4/6).
    [[ $(grep -c "^answered=3 refused=0 lost=0 foreign=0$" <<<"$output") == 2 ]]
    assert_output --partial "Server:		8.8.8.8"
    assert_line "tcp done"
    [[ $(server_count resolver_udp) == 0 ]]
    [[ $(server_count resolver_tcp) == 0 ]]
    run jq -c 'select(.syscall == "proxy") | [.protocol, .upstream, .verdict]' "$TEST_DIR/log/$ID.jsonl"
    assert_line '["transparent","192.0.2.53:53","deny"]'
}

@test "dns: allowedHosts names resolve too" {
    annotate run.tether.network.allowedDomains ""
    annotate run.tether.network.allowedHosts "git.hosts.test:22"
    run_in_container "nslookup git.hosts.test; nslookup allowed.test; true"
    assert_success
    assert_output --partial "Address: 192.0.2.10"
    assert_line --partial "can't find allowed.test: NXDOMAIN"
}

@test "dns: a flood of random subdomains is rate-limited, and the log says so" {
    # 300 queries back to back on one socket (a few milliseconds): the
    # bucket holds 40 and refills 20 a second.
    run_in_container "probe dnsflood 198.51.100.53 300"
    assert_success
    local answered refused
    answered=$(sed -n 's/^answered=\([0-9]*\) .*/\1/p' <<<"$output")
    refused=$(sed -n 's/.* refused=\([0-9]*\) .*/\1/p' <<<"$output")
    [[ $answered -ge 40 && $answered -lt 150 ]]
    [[ $refused -ge 150 ]]
    run jq -r 'select(.syscall == "dns" and .rule == "dns-rate-limit") | .error' "$TEST_DIR/log/$ID.jsonl"
    assert_success
    assert_line --index 0 "rate limit reached"
    # One line a second at most, not one a query; what was left out is counted.
    assert_line --regexp "rate-limited queries not logged"
    [[ ${#lines[@]} -lt 20 ]]
    [[ $(grep -c "flood.test" "$TEST_DIR/log/$ID.jsonl") -lt 200 ]]
}

@test "dns: with transparent=false the responder is off: UDP 53 stays refused" {
    annotate run.tether.network.transparent false
    run_in_container "probe udp 198.51.100.53 53; true"
    assert_success
    assert_line "EACCES"
}

_HTTP_ONE='
import http.server, sys, os
addr, port, base = sys.argv[1], int(sys.argv[2]), sys.argv[3]
count = 0
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        global count
        count += 1
        with open(base + ".count.tmp", "w") as f:
            f.write(str(count))
        os.replace(base + ".count.tmp", base + ".count")
        body = b"hello from the host side\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
server = http.server.HTTPServer((addr, port), Handler)
open(base + ".ready", "w").close()
server.serve_forever()
'
