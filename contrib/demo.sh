#!/usr/bin/env bash
# demo.sh — a sandboxed busybox container with tether: one allowed and one
# denied connection to services on the host's loopback.
#
#   contrib/demo.sh                 uses ./build/tether (and ./build/tether-netd)
#
# Two tiny HTTP servers listen on the host's 127.0.0.1 (ports 18080 and
# 18081). The container shares the host's network and carries the annotation
#   run.tether.network.allowLocalOutboundPorts=18080
# so the kernel (the cgroup socket programs tether-netd attaches) lets it
# reach 18080 and refuses 18081
# (ECONNREFUSED, as for a closed port), and Landlock confines its writes.
# Everything (bundle, state, servers) is removed on exit.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runtime=${RUNTIME:-$repo/build/tether}
allowed_port=${DEMO_ALLOWED_PORT:-18080}
denied_port=${DEMO_DENIED_PORT:-18081}
if [[ ! -x $runtime ]]; then
    echo "demo.sh: $runtime not found; build it first with contrib/build.sh" >&2
    exit 1
fi

work=$(mktemp -d /tmp/tether-demo.XXXXXX)
id=tether-demo-$$
server_pids=()
cleanup() {
    "$runtime" --root "$work/state" delete --force "$id" >/dev/null 2>&1 || true
    for pid in "${server_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# Two host services on loopback, each answering with its own page.
for port in "$allowed_port" "$denied_port"; do
    mkdir -p "$work/www-$port"
    echo "hello from the host service on port $port" >"$work/www-$port/index.html"
    busybox httpd -f -p "127.0.0.1:$port" -h "$work/www-$port" &
    server_pids+=($!)
done
for port in "$allowed_port" "$denied_port"; do
    for _ in $(seq 50); do busybox wget -q -O /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break; sleep 0.1; done
done

# What the container runs: everything it prints comes from inside.
script='echo "inside: $(id), pid $$, hostname $(hostname), host network"
echo "connect to 127.0.0.1:'"$allowed_port"' (listed):"
timeout 5 wget -q -O - http://127.0.0.1:'"$allowed_port"'/ || echo "  failed"
echo "connect to 127.0.0.1:'"$denied_port"' (not listed):"
timeout 5 wget -q -O - http://127.0.0.1:'"$denied_port"'/ 2>&1 || echo "  refused, as the policy says"
echo "write /tmp/ok (allowWrite): $(echo x > /tmp/ok && echo ok)"
echo "write /etc/passwd (outside allowWrite): $( (echo x >> /etc/passwd) 2>&1 || true)"'

"$repo/contrib/make-busybox-bundle.sh" "$work/bundle" sh -c "$script" >/dev/null
jq --arg port "$allowed_port" '
    .hostname = "tether-demo"
  | .root.readonly = false
  | .linux.namespaces |= map(select(.type != "network"))
  | .annotations = {
        "run.tether.network.allowLocalOutboundPorts": $port,
        "run.tether.filesystem.allowWrite": "/tmp"
    }' "$work/bundle/config.json" >"$work/config.json"
mv "$work/config.json" "$work/bundle/config.json"

echo "== $("$runtime" --version | head -n1)"
echo "== sandbox: $(jq -c .annotations "$work/bundle/config.json")"
echo "== $runtime run --keep --bundle $work/bundle $id"
rc=0
timeout 60 "$runtime" --root "$work/state" run --keep --bundle "$work/bundle" "$id" || rc=$?
echo "== container exited with status $rc"
echo "== the sandbox's decisions, made in the kernel ($work/state/$id/decisions.jsonl):"
if [[ -f $work/state/$id/decisions.jsonl ]]; then
    jq -r '"  \(.verdict)  \(.syscall) \(.address):\(.port)  rule=\(.rule)"' "$work/state/$id/decisions.jsonl"
fi
exit "$rc"
