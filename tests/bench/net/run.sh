#!/bin/sh
# Builds the tether_hooks library in Release and runs the network benchmarks.
# Usage: tests/bench/net/run.sh [MiB per throughput run (256)] [requests per round (5000)] [rounds (7)]
# Every figure is the median of `rounds` alternated rounds, shown with its
# spread; NET_BENCH_PIN=client,server,relay pins the threads (net_bench.cpp).
# Old library against new: tests/bench/net/compare.sh.
# The BPF sockmap alternative that was measured and not adopted has its own
# probe: cc -O2 tests/bench/net/sockmap_probe.c -lpthread -o /tmp/sockmap_probe
set -eu
root=$(cd "$(dirname "$0")/../../.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTETHER_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target tether_hooks -j2 >/dev/null
g++ -std=c++20 -O2 -D_GNU_SOURCE -I"$root" "$root/tests/bench/net/net_bench.cpp" \
    "$build/libtether_hooks.a" -lidn2 -lseccomp -pthread -o "$build/net_bench"
exec "$build/net_bench" "$@"
