#!/usr/bin/env bats
# The egress proxy of tether-netd, used from inside real containers through
# the HTTP_PROXY variables tether sets. Names resolve through a hosts file of
# the test's own: tether (and so the daemon it starts) runs in a private mount
# namespace (unshare -m) where that file is bind-mounted over /etc/hosts, and
# every name points at servers the test runs on 127.0.0.1
# (run.tether.network.allowPrivateUpstreams=127.0.0.0/8 lets the proxy dial them).

load helpers

setup() {
    setup_netd_bundle

    cat >"$TEST_DIR/hosts" <<'HOSTS'
127.0.0.1 localhost
127.0.0.1 allowed.test www.allowed.test secure.allowed.test bad.allowed.test other.test
169.254.169.254 metadata.allowed.test
HOSTS
    # tether under unshare -m with the hosts file; teardown uses it too.
    cat >"$TEST_DIR/tether-with-hosts" <<SH
#!/bin/sh
exec unshare -m sh -c 'mount --bind "\$0" /etc/hosts && exec "\$@"' "$TEST_DIR/hosts" "$RUNTIME" "\$@"
SH
    chmod +x "$TEST_DIR/tether-with-hosts"

    mkdir -p "$TEST_DIR/www"
    echo "hello from the host" >"$TEST_DIR/www/hello.txt"
    timeout 300 "$PYTHON" -c '
import http.server, functools, os, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
open(sys.argv[2] + ".tmp", "w").write(str(server.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
server.serve_forever()' "$TEST_DIR/www" "$TEST_DIR/http.port" 2>/dev/null &
    SERVER_PIDS+=($!)
    wait_for_file "$TEST_DIR/http.port"
    HTTP_PORT=$(cat "$TEST_DIR/http.port")

    update_config '.annotations["run.tether.network.allowedDomains"] = "allowed.test,*.allowed.test"
        | .annotations["run.tether.network.deniedDomains"] = "bad.allowed.test"
        | .annotations["run.tether.network.allowPrivateUpstreams"] = "127.0.0.0/8"
        | .root.readonly = false'
}

teardown() { teardown_netd_bundle; }

wait_for_file() {
    local i
    for ((i = 0; i < 100; i++)); do
        [[ -s $1 ]] && return 0
        sleep 0.1
    done
    fail "$1 never appeared"
}

# run_in_proxy_container SCRIPT: `tether run` (with the test's hosts file) of
# `sh -c SCRIPT`.
run_in_proxy_container() {
    set_args sh -c "$1"
    runtime_bin "$TEST_DIR/tether-with-hosts" "$ROOT" run --bundle "$BUNDLE" "$ID"
}

# raw_proxy_request HOST: a plain-HTTP proxy request sent with nc, so that the
# body of an error reply is visible (wget does not print it).
raw_proxy_request() {
    echo "printf 'GET http://$1:$HTTP_PORT/hello.txt HTTP/1.1\\r\\nHost: $1\\r\\nConnection: close\\r\\n\\r\\n' | timeout 10 nc 127.0.0.1 3128"
}

@test "proxy: the container gets the proxy variables" {
    run_in_proxy_container "env | grep -i proxy | sort"
    assert_success
    assert_line "HTTP_PROXY=http://127.0.0.1:3128"
    assert_line "HTTPS_PROXY=http://127.0.0.1:3128"
    assert_line "ALL_PROXY=http://127.0.0.1:3128"
    assert_line "http_proxy=http://127.0.0.1:3128"
    assert_line "NO_PROXY=localhost,127.0.0.1,::1"
}

@test "proxy: plain HTTP to an allowed name goes through (busybox wget honours http_proxy)" {
    run_in_proxy_container "timeout 10 wget -q -O - http://allowed.test:$HTTP_PORT/hello.txt; timeout 10 wget -q -O - http://www.allowed.test:$HTTP_PORT/hello.txt"
    assert_success
    assert_line --index 0 "hello from the host"
    assert_line --index 1 "hello from the host"
}

@test "proxy: a denied name gets 403 naming the rule, a name outside the list too" {
    run_in_proxy_container "$(raw_proxy_request bad.allowed.test); echo; $(raw_proxy_request other.test); echo; timeout 10 wget -q -O - http://other.test:$HTTP_PORT/hello.txt; echo wget=\$?"
    assert_success
    assert_output --partial "HTTP/1.1 403"
    assert_output --partial "bad.allowed.test denied by rule deniedDomains:bad.allowed.test"
    assert_output --partial "other.test denied by rule"
    assert_output --partial "run.tether.network.allowedDomains"
    refute_output --partial "hello from the host"
    assert_line "wget=1"
}

@test "proxy: HTTPS through CONNECT to an allowed name (openssl s_server on the host)" {
    command -v openssl >/dev/null || skip "openssl is not installed"
    openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=secure.allowed.test -days 1 \
        -keyout "$TEST_DIR/key.pem" -out "$TEST_DIR/cert.pem" 2>/dev/null
    local port
    port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    timeout 120 openssl s_server -accept "127.0.0.1:$port" -cert "$TEST_DIR/cert.pem" -key "$TEST_DIR/key.pem" \
        -www -quiet -cipher ALL:@SECLEVEL=0 </dev/null >/dev/null 2>&1 &
    SERVER_PIDS+=($!)
    local i
    for ((i = 0; i < 100; i++)); do
        (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
        sleep 0.1
    done
    # (SECLEVEL=0: busybox ssl_client offers only a few TLS 1.2 suites.)
    # nc -e runs the script on the proxy connection: it sends CONNECT, reads
    # the 200 and the blank line, then speaks TLS with busybox's ssl_client.
    cat >"$BUNDLE/rootfs/connect.sh" <<SH
#!/bin/sh
exec 3<&0 4>&1
printf 'CONNECT secure.allowed.test:$port HTTP/1.1\r\nHost: secure.allowed.test:$port\r\n\r\n' >&4
read -r status <&3
echo "\$status" >/tmp/connect-status
while read -r line <&3; do [ "\$(printf %s "\$line" | tr -d '\r')" = "" ] && break; done
printf 'GET / HTTP/1.0\r\n\r\n' | ssl_client -s 4 -r 3 -n secure.allowed.test >/tmp/tls-body 2>&1
SH
    chmod +x "$BUNDLE/rootfs/connect.sh"
    run_in_proxy_container "timeout 20 nc 127.0.0.1 3128 -e /connect.sh; cat /tmp/connect-status /tmp/tls-body"
    assert_success
    assert_line --index 0 --regexp '^HTTP/1\.[01] 200'
    assert_output --partial "s_server"
}

@test "proxy: SOCKS5 with a name, from inside the container's network namespace" {
    command -v curl >/dev/null || skip "curl is not installed"
    set_args sh -c 'trap "exit 143" TERM; sleep 3600 & wait'
    runtime_bin "$TEST_DIR/tether-with-hosts" "$ROOT" create --bundle "$BUNDLE" "$ID"
    assert_success
    runtime start "$ID"
    assert_success
    local init
    init=$(state_field "$ID" pid)
    # curl on the host side, in the container's network namespace only; the
    # proxy resolves the name (socks5h) with the test's hosts file.
    run timeout 20 nsenter --net=/proc/$init/ns/net curl -s --socks5-hostname 127.0.0.1:3128 \
        "http://allowed.test:$HTTP_PORT/hello.txt"
    assert_success
    assert_output "hello from the host"
    run timeout 20 nsenter --net=/proc/$init/ns/net curl -s --socks5-hostname 127.0.0.1:3128 \
        "http://other.test:$HTTP_PORT/hello.txt"
    assert_failure
}

@test "proxy: a name resolving to 169.254.169.254 is refused before any connect" {
    # The container has only lo: even a dial would go nowhere, so the 403 and
    # the rule prove the proxy refused on the address class.
    run_in_proxy_container "$(raw_proxy_request metadata.allowed.test)"
    assert_success
    assert_output --partial "HTTP/1.1 403"
    assert_output --partial "private-address"
}

@test "proxy: decisions.jsonl records allowed and denied requests with byte counts" {
    set_args sh -c "wget -q -O /dev/null http://allowed.test:$HTTP_PORT/hello.txt; $(raw_proxy_request bad.allowed.test) >/dev/null; sleep 3600"
    runtime_bin "$TEST_DIR/tether-with-hosts" "$ROOT" create --bundle "$BUNDLE" "$ID"
    assert_success
    runtime start "$ID"
    assert_success
    local log=$ROOT/$ID/decisions.jsonl i
    for ((i = 0; i < 100; i++)); do
        [[ $(grep -c '"syscall":"proxy"' "$log" 2>/dev/null) -ge 2 ]] && break
        sleep 0.1
    done
    run jq -c 'select(.syscall == "proxy") | [.address, .verdict, .rule, .protocol, (.bytes_down > 0)]' "$log"
    assert_line "[\"allowed.test\",\"allow\",\"allowedDomains:allowed.test\",\"http\",true]"
    assert_line --partial "[\"bad.allowed.test\",\"deny\",\"deniedDomains:bad.allowed.test\",\"http\""
}

@test "proxy: host network: the proxy listens on a host loopback port the supervisor allows" {
    update_config '.linux.namespaces |= map(select(.type != "network"))'
    run_in_proxy_container "echo \$HTTP_PROXY; timeout 10 wget -q -O - http://allowed.test:$HTTP_PORT/hello.txt"
    assert_success
    assert_line --index 0 --regexp '^http://127\.0\.0\.1:[0-9]+$'
    refute_line --index 0 "http://127.0.0.1:3128"
    assert_line --index 1 "hello from the host"
}

# held_proxy_request REQUEST: a script that sends REQUEST to the proxy and
# keeps its side open (nc's stdin, a fifo, stays open for 20 s), then prints
# what came back and how many seconds passed until the connection ended.
held_proxy_request() {
    echo "mkfifo /tmp/held; (printf '$1'; sleep 20) >/tmp/held & start=\$(date +%s);" \
        "timeout 15 nc 127.0.0.1 3128 </tmp/held; echo; echo \"elapsed=\$((\$(date +%s) - start))\""
}

@test "proxy: --proxy-request-head-timeout: a half-sent request head is answered 408 and closed" {
    set_args sh -c "$(held_proxy_request 'GET http://allowed.test/ HTTP/1.1\r\nHost: allo')"
    runtime_bin "$TEST_DIR/tether-with-hosts" "$ROOT" --proxy-request-head-timeout 1s run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output --partial "HTTP/1.1 408 Request Timeout"
    # Closed by the proxy after about 1 s, not by nc's own 15 s.
    [[ $(sed -n 's/^elapsed=//p' <<<"$output") -lt 10 ]]
}

@test "proxy: TETHER_PROXY_IDLE_TIMEOUT: an idle CONNECT tunnel is closed and logged as such" {
    set_args sh -c "$(held_proxy_request "CONNECT allowed.test:$HTTP_PORT HTTP/1.1\\r\\n\\r\\n"); sleep 3600"
    TETHER_PROXY_IDLE_TIMEOUT=1s runtime_bin "$TEST_DIR/tether-with-hosts" "$ROOT" create --bundle "$BUNDLE" "$ID"
    assert_success
    runtime start "$ID"
    assert_success
    local log=$ROOT/$ID/decisions.jsonl i
    for ((i = 0; i < 200; i++)); do
        container_output "$ID" | grep -q '^elapsed=' && grep -q '"syscall":"proxy"' "$log" 2>/dev/null && break
        sleep 0.1
    done
    run container_output "$ID"
    assert_line --partial "HTTP/1.1 200 Connection established"
    # Closed by the proxy after about 1 s, not by nc's own 15 s.
    [[ $(sed -n 's/^elapsed=//p' <<<"$output") -lt 10 ]]
    run jq -r 'select(.syscall == "proxy") | [.protocol, .verdict, .error] | join(" ")' "$log"
    assert_output "connect allow idle timeout"
}

@test "proxy: a bad --proxy-idle-timeout fails create naming the flag, nothing left" {
    runtime --proxy-idle-timeout 10x create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial '--proxy-idle-timeout: "10x": expected a whole number followed by ms, s, m or h'
    assert_no_leftovers "$ROOT" "$ID"
}
