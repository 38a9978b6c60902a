#!/usr/bin/env bash
# tests/fuzz/run.sh — build the libFuzzer targets with clang-14 (ASan + UBSan)
# straight from spec/*.cpp and run each one for a bounded time, starting from
# the seed corpus in tests/fuzz/corpus/<target>.
#
#   FUZZ_SECONDS=60        time per target (the test command uses 60)
#   FUZZ_BUILD_DIR=dir     objects, binaries, working corpora, crash files
#                          (default <repo>/build-fuzz)
#   FUZZ_TARGETS="config process resources state policy dns"
#   tests/fuzz/run.sh --build-only
#
# The seed corpus is copied, never written to: new inputs libFuzzer finds stay
# in the build dir. A crash, a sanitizer report or an exception other than
# spec::ParseError fails the run; the input is saved as $FUZZ_BUILD_DIR/crash-*
# and can be replayed with: $FUZZ_BUILD_DIR/fuzz_<target> <file>.
# Exit status: 0 if every target ran clean, 1 otherwise.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${FUZZ_BUILD_DIR:-$repo/build-fuzz}
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-config process resources state policy dns}
cxx=${FUZZ_CXX:-clang++-14}
ar=${FUZZ_AR:-llvm-ar-14}
# Objects take fuzzer-no-link (coverage only); the targets link the fuzzer main.
flags=(-std=c++20 -O1 -g -I"$repo" -fno-sanitize-recover=undefined)
obj_flags=("${flags[@]}" -fsanitize=fuzzer-no-link,address,undefined)
bin_flags=("${flags[@]}" -fsanitize=fuzzer,address,undefined)

command -v "$cxx" >/dev/null || { echo "fuzz: $cxx not found (apt-get install clang-14)" >&2; exit 1; }
mkdir -p "$out/obj"

# spec/ is pure C++ with no syscalls; it is built whole into one archive so
# each target links only what it uses. An object is rebuilt when its source
# or any spec header is newer.
newest_header=$(ls -t "$repo"/spec/*.hpp | head -n1)
objects=()
for src in "$repo"/spec/*.cpp; do
    obj=$out/obj/$(basename "${src%.cpp}").o
    if [[ ! -f $obj || $src -nt $obj || $newest_header -nt $obj ]]; then
        echo "fuzz: compiling $(basename "$src")"
        "$cxx" "${obj_flags[@]}" -c "$src" -o "$obj"
    fi
    objects+=("$obj")
done
rm -f "$out/libspec.a"
"$ar" rcs "$out/libspec.a" "${objects[@]}"

# Targets outside spec/ name their pure sources here (compiled with the target).
extra_sources() {
    case $1 in
    dns) echo "$repo/hooks/dns/dns_message.cpp" ;;
    esac
}

for t in $targets; do
    src=$repo/tests/fuzz/fuzz_$t.cpp
    bin=$out/fuzz_$t
    extra=($(extra_sources "$t"))
    stale=0
    for f in "$src" "$out/libspec.a" "${extra[@]}" ${extra[@]/%.cpp/.hpp}; do [[ $f -nt $bin ]] && stale=1; done
    if [[ ! -f $bin || $stale == 1 ]]; then
        echo "fuzz: linking fuzz_$t"
        "$cxx" "${bin_flags[@]}" "$src" "${extra[@]}" "$out/libspec.a" -o "$bin"
    fi
done

[[ ${1:-} == --build-only ]] && exit 0

rc=0
for t in $targets; do
    work=$out/corpus-$t
    mkdir -p "$work"
    cp -n "$repo"/tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
    echo "fuzz: running fuzz_$t for ${seconds}s"
    # -rss_limit_mb: a parser that allocates without bound is a bug too.
    if ! "$out/fuzz_$t" "$work" -max_total_time="$seconds" -max_len=65536 \
        -rss_limit_mb=2048 -timeout=10 -dict="$repo/tests/fuzz/json.dict" \
        -artifact_prefix="$out/crash-$t-" -print_final_stats=1 \
        >"$out/fuzz_$t.log" 2>&1; then
        echo "fuzz: fuzz_$t FAILED (log $out/fuzz_$t.log):" >&2
        tail -n 40 "$out/fuzz_$t.log" >&2
        rc=1
    else
        grep -E 'stat::number_of_executed_runs|cov: ' "$out/fuzz_$t.log" | tail -n 2 || true
        echo "fuzz: fuzz_$t ok"
    fi
done
exit $rc
