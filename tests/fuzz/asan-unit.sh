#!/usr/bin/env bash
# tests/fuzz/asan-unit.sh — the unit tests built with ASan + UBSan
# (CMake option TETHER_SANITIZE=ON) in their own build dir, each area's
# test binary run once; any sanitizer report fails it.
# Only the areas whose code parses or decides on untrusted input are built by
# default (spec, sandbox, security), to keep CI within its time budget.
#
#   ASAN_BUILD_DIR=dir           (default <repo>/build-asan)
#   ASAN_AREAS="spec sandbox security"   unit-test areas (tests/unit/<area>)
#   JOBS=2
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${ASAN_BUILD_DIR:-$repo/build-asan}
# security is left out by default: its tests load seccomp filters in forked
# children, and a child that ASan aborts under such a filter can hang instead
# of exiting (seen with the mkdir-errno profile).
areas=${ASAN_AREAS:-spec sandbox}

# Every sanitizer report is fatal, and leaks count.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTETHER_SANITIZE=ON >/dev/null
targets=()
for area in $areas; do targets+=(--target "tether_${area}_tests"); done
cmake --build "$build" -j"${JOBS:-2}" "${targets[@]}"

# Each area's binary directly: ctest would also list the areas not built.
rc=0
for area in $areas; do
    echo "asan: tether_${area}_tests"
    timeout -k 10 "${ASAN_TEST_TIMEOUT:-600}" "$build/tether_${area}_tests" --gtest_brief=1 || rc=1
done
exit $rc
