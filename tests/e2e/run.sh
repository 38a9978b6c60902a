#!/usr/bin/env bash
# tests/e2e/run.sh [FILE.bats...] — only the end-to-end tests: real podman
# (root and rootless), containerd (ctr) and Docker (root and rootless) driving tether.
#
# Each .bats file starts and stops what its client needs (a private
# containerd or dockerd, a test user with subordinate ids, private storage)
# in setup_file/teardown_file, so this script only picks the runtime and the
# files. tests/run-all.sh runs the same files as its "e2e" suite.
#
#   RUNTIME=/path/to/tether   runtime under test (default <repo>/build/tether)
#   E2E_TIMEOUT=60            bound for one client command, seconds
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export RUNTIME=${RUNTIME:-$here/../../build/tether}
[[ $(id -u) -eq 0 ]] || { echo "e2e: run as root (the tests start daemons and add a user)" >&2; exit 1; }
[[ -x $RUNTIME ]] || { echo "e2e: runtime not found: $RUNTIME (contrib/build.sh builds it)" >&2; exit 1; }
if [[ $# -eq 0 ]]; then
    set -- "$here"/*.bats
fi
exec timeout -k 30 "${BATS_TIMEOUT:-1800}" bats --tap "$@"
