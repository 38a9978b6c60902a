#!/usr/bin/env bash
# build.sh — configure and build tether into ./build (at the repository root).
#   BUILD_TYPE=Debug contrib/build.sh     (default RelWithDebInfo)
#   BUILD_DIR=/tmp/b contrib/build.sh     (default <repo>/build)
#   contrib/build.sh tether               (build only the named targets)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build}
jobs=${JOBS:-$(nproc)}

cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" >/dev/null
if [[ $# -gt 0 ]]; then
    targets=()
    for t in "$@"; do targets+=(--target "$t"); done
    cmake --build "$build_dir" -j"$jobs" "${targets[@]}"
else
    cmake --build "$build_dir" -j"$jobs"
fi
