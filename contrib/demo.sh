#!/usr/bin/env bash
# demo.sh — run a busybox container with tether and show what it sees.
#
#   contrib/demo.sh                 uses ./build/tether
#   RUNTIME=runc contrib/demo.sh    the same demo with another runtime
#
# The bundle and the runtime's state live in a temporary directory that is
# removed on exit, so the demo leaves nothing behind.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runtime=${RUNTIME:-$repo/build/tether}
if ! command -v "$runtime" >/dev/null; then
    echo "demo.sh: $runtime not found; build it first with contrib/build.sh" >&2
    exit 1
fi

work=$(mktemp -d /tmp/tether-demo.XXXXXX)
id=tether-demo-$$
cleanup() {
    "$runtime" --root "$work/state" delete --force "$id" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# The script the container runs: everything it prints comes from inside.
script='echo "hostname: $(hostname)"
echo "id:       $(id)"
echo "pid:      $$ (the container init is pid 1 in its own pid namespace)"
echo "ps:"; ps -o pid,user,comm
echo "ls /:     $(ls / | tr "\n" " ")"'

"$repo/contrib/make-busybox-bundle.sh" "$work/bundle" sh -c "$script"
# A recognisable hostname, so it is obvious the UTS namespace is the container's.
jq '.hostname = "tether-demo"' "$work/bundle/config.json" >"$work/config.json"
mv "$work/config.json" "$work/bundle/config.json"

echo "== $("$runtime" --version | head -n1)"
echo "== $runtime run --bundle $work/bundle $id"
rc=0
timeout 60 "$runtime" --root "$work/state" run --bundle "$work/bundle" "$id" || rc=$?
echo "== container exited with status $rc"
exit "$rc"
