#!/bin/sh
# Old against new on a shared machine: builds the same net_bench.cpp twice,
# once with this tree's libtether_hooks and once with REF's (headers and
# library of REF, default main), then runs the two binaries alternately
# (old new, new old, ...) PAIRS times and prints, for every figure, each
# side's median over all its rounds with the min-max and the new/old ratio.
# Usage: tests/bench/net/compare.sh [REF] [PAIRS] [net_bench args: MiB requests rounds]
# NET_BENCH_PIN (client,server,relay CPUs) is passed on; see net_bench.cpp.
set -eu
root=$(cd "$(dirname "$0")/../../.." && pwd)
ref=${1:-main} pairs=${2:-5}
shift $(($# > 2 ? 2 : $#))
sha=$(git -C "$root" rev-parse --short "$ref")
old=/tmp/tether-netbench-$sha
new=${BUILD_DIR:-$root/build-bench}
build_lib() {  # source dir, build dir (the compiler's warnings only on failure)
    mkdir -p "$2"
    { cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=Release -DTETHER_BUILD_TESTS=OFF &&
        cmake --build "$2" --target tether_hooks -j2; } >"$2/build.log" 2>&1 || { cat "$2/build.log" >&2; exit 1; }
}
if [ ! -f "$old/build/libtether_hooks.a" ]; then
    rm -rf "$old" && mkdir -p "$old/src"
    git -C "$root" archive "$ref" | tar -x -C "$old/src"
    build_lib "$old/src" "$old/build"
fi
build_lib "$root" "$new"
bench() {  # include dir, library, output
    g++ -std=c++20 -O2 -D_GNU_SOURCE -I"$1" "$root/tests/bench/net/net_bench.cpp" "$2" -lidn2 -lseccomp -pthread -o "$3"
}
bench "$old/src" "$old/build/libtether_hooks.a" "$old/net_bench"
bench "$root" "$new/libtether_hooks.a" "$new/net_bench"

work=$(mktemp -d /tmp/tether-netcompare.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "old: $ref ($sha), new: $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- hooks || echo '+changes'); pinning: ${NET_BENCH_PIN:-none}; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
i=0
while [ "$i" -lt "$pairs" ]; do
    if [ $((i % 2)) -eq 0 ]; then order="old new"; else order="new old"; fi
    for side in $order; do
        if [ "$side" = old ]; then bin=$old/net_bench; else bin=$new/net_bench; fi
        NET_BENCH_TSV=1 "$bin" "$@" >"$work/out" 2>&1 || true
        echo "== pair $((i + 1)) $side (load $(cut -d' ' -f1 /proc/loadavg))" >>"$work/log"
        grep -v '^@' "$work/out" >>"$work/log"
        grep '^@' "$work/out" | awk -v s="$side" '{ print s, $2, $3 }' >>"$work/all"
    done
    i=$((i + 1))
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); every run's output: ${KEEP_LOG:-(set KEEP_LOG=file to keep it)}"
[ -n "${KEEP_LOG:-}" ] && cp "$work/log" "$KEEP_LOG"
printf '| figure | old: median (min-max) | new: median (min-max) | new / old |\n|---|---|---|---:|\n'
sort -k2,2 -k1,1 -k3,3g "$work/all" | awk '
    function med(side, m) { return v[side, int((n[side] + 1) / 2)] }
    function flush() {
        if (metric == "") return
        o = med("old"); w = med("new")
        printf "| %s | %.1f (%.1f-%.1f) | %.1f (%.1f-%.1f) | %s |\n", metric, o, v["old", 1], v["old", n["old"]],
            w, v["new", 1], v["new", n["new"]], (o != 0 ? sprintf("%.2f", w / o) : "")
        delete v; delete n
    }
    $2 != metric { flush(); metric = $2 }
    { n[$1]++; v[$1, n[$1]] = $3 }
    END { flush() }'
