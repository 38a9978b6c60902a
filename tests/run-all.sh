#!/usr/bin/env bash
# run-all.sh — every test of the project, against the build in ./build:
#   1. unit tests (ctest --output-on-failure),
#   2. bats integration tests (tests/integration/*.bats) with RUNTIME=build/tether,
#   3. end-to-end tests (tests/e2e/*.bats), when there are any.
# Ends with one summary line "N passed, N failed" and exits non-zero if
# anything failed (or nothing ran).
#
#   BUILD_DIR=/path     build directory (default <repo>/build)
#   RUNTIME=runc        run the integration tests against another runtime
#   SUITES="unit integration e2e fuzz asan"   which suites to run
#   FUZZ_SECONDS=60     per libFuzzer target (suite fuzz: tests/fuzz/run.sh)
#   (suite asan: tests/fuzz/asan-unit.sh, unit tests under ASan+UBSan)
#   BATS_FILTER=regex   only bats tests whose name matches
#   BATS_JOBS=N         bats files run N at a time (default: the CPU count when
#                       GNU parallel is installed, else 1). A file whose
#                       header has a line "# tether-tests: serial (why)" runs
#                       alone, after the others: it counts host-wide things,
#                       changes global state or is timing-sensitive.
#   tests/run-all.sh tests/integration/kill.bats ...   only these bats files
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build}
export RUNTIME=${RUNTIME:-$build_dir/tether}
suites=${SUITES:-unit integration e2e fuzz asan}
log_dir=$(mktemp -d /tmp/tether-tests.XXXXXX)

passed=0
failed=0
skipped=0
failures=()

note() { printf '\n=== %s\n' "$*"; }

run_unit() {
    note "unit tests (ctest in $build_dir)"
    if [[ ! -f $build_dir/CTestTestfile.cmake ]]; then
        echo "no CMake build in $build_dir: run contrib/build.sh first"
        failed=$((failed + 1)); failures+=("unit: no build in $build_dir")
        return
    fi
    local log=$log_dir/ctest.log
    ctest --test-dir "$build_dir" --output-on-failure -j"${JOBS:-2}" --timeout 300 2>&1 | tee "$log"
    # "95% tests passed, 2 tests failed out of 40"
    local line total nfail
    line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n1)
    if [[ -n $line ]]; then
        nfail=$(sed -E 's/.* ([0-9]+) tests? failed out of.*/\1/' <<<"$line")
        total=$(sed -E 's/.*failed out of ([0-9]+).*/\1/' <<<"$line")
        passed=$((passed + total - nfail))
        failed=$((failed + nfail))
        while read -r name; do failures+=("unit: $name"); done < <(
            sed -n '/The following tests FAILED:/,$p' "$log" | grep -E '^\s+[0-9]+ - ' | sed -E 's/^\s+[0-9]+ - //')
    elif grep -q 'No tests were found' "$log"; then
        echo "(no unit tests registered)"
    else
        failed=$((failed + 1)); failures+=("unit: ctest did not run")
    fi
}

# run_bats NAME FILE...: TAP output, counted per test. With BATS_JOBS > 1
# the files not marked serial run in parallel first (bats --jobs, one file
# per job: the tests of a file share its setup and stay in order), then the
# serial ones alone.
run_bats() {
    local name=$1
    shift
    [[ $# -gt 0 ]] || { echo "(no $name tests)"; return; }
    local jobs=${BATS_JOBS:-1} file parallel_files=() serial_files=()
    if [[ -z ${BATS_JOBS:-} ]] && command -v parallel >/dev/null; then jobs=$(nproc); fi
    for file in "$@"; do
        if [[ $jobs -gt 1 ]] && ! grep -q '^# tether-tests: serial' "$file"; then parallel_files+=("$file")
        else serial_files+=("$file"); fi
    done
    if [[ ${#parallel_files[@]} -gt 1 ]]; then
        run_bats_once "$name (parallel, $jobs jobs)" "$log_dir/$name-parallel.tap" \
            --jobs "$jobs" --no-parallelize-within-files "${parallel_files[@]}"
    else
        serial_files=("${parallel_files[@]}" "${serial_files[@]}")
    fi
    [[ ${#serial_files[@]} -eq 0 ]] || run_bats_once "$name" "$log_dir/$name.tap" "${serial_files[@]}"
}

# run_bats_once LABEL LOG [BATS ARGS...] FILE...: one bats run, counted.
run_bats_once() {
    local name=$1 log=$2 filter=()
    shift 2
    local started=$SECONDS
    note "$name tests (bats, RUNTIME=$RUNTIME)"
    [[ -n ${BATS_FILTER:-} ]] && filter=(--filter "$BATS_FILTER")
    # A global bound so that a wedged runtime cannot eat CI's 90 minutes.
    timeout -k 30 "${BATS_TIMEOUT:-2700}" bats --tap "${filter[@]}" "$@" 2>&1 | tee "$log"
    local ok nok skip
    ok=$(grep -cE '^ok [0-9]+' "$log")
    skip=$(grep -cE '^ok [0-9]+ .*# skip' "$log")
    nok=$(grep -cE '^not ok [0-9]+' "$log")
    passed=$((passed + ok - skip))
    skipped=$((skipped + skip))
    failed=$((failed + nok))
    while read -r t; do failures+=("$name: $t"); done < <(grep -E '^not ok [0-9]+' "$log" | sed -E 's/^not ok [0-9]+ //')
    # Each bats run's own time (the parallel and the serial part), listed
    # before its suite's total.
    suite_times+=("$(printf '  %-30s %4d s' "$name" $((SECONDS - started)))")
    # A plan larger than the results means bats died or timed out.
    local plan
    plan=$(grep -m1 -E '^1\.\.[0-9]+' "$log" | cut -d. -f3)
    if [[ -z $plan ]] || [[ $plan -gt $((ok + nok)) ]]; then
        failed=$((failed + 1)); failures+=("$name: bats stopped early (plan ${plan:-?}, ran $((ok + nok)))")
    fi
}

# run_script NAME SCRIPT: one pass or one failure for the whole script.
run_script() {
    note "$1 ($2)"
    if timeout -k 30 "${SCRIPT_TIMEOUT:-2400}" "$2" 2>&1 | tee "$log_dir/$1.log"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1)); failures+=("$1: $2 failed (log $log_dir/$1.log)")
    fi
}

bats_files=()
for arg in "$@"; do bats_files+=("$arg"); done

# Each suite's wall time, printed in the summary: CI's budget is 90 minutes
# and .ci/run is held to 60 (issue 23).
suite_times=()
for suite in $suites; do
    suite_started=$SECONDS
    case $suite in
        unit) [[ ${#bats_files[@]} -gt 0 ]] || run_unit ;;
        integration)
            if [[ ${#bats_files[@]} -gt 0 ]]; then
                run_bats integration "${bats_files[@]}"
            else
                run_bats integration "$repo"/tests/integration/*.bats "$repo"/tests/integration/reliability/*.bats
            fi ;;
        e2e)
            [[ ${#bats_files[@]} -gt 0 ]] && continue
            shopt -s nullglob
            e2e=("$repo"/tests/e2e/*.bats)
            shopt -u nullglob
            run_bats e2e "${e2e[@]}" ;;
        fuzz | asan)
            [[ ${#bats_files[@]} -gt 0 ]] && continue
            script=$repo/tests/fuzz/run.sh
            [[ $suite == asan ]] && script=$repo/tests/fuzz/asan-unit.sh
            run_script "$suite" "$script" ;;
        *) echo "unknown suite $suite" >&2; exit 2 ;;
    esac
    suite_times+=("$(printf '%-12s %4d s' "$suite" $((SECONDS - suite_started)))")
done

note "summary (logs in $log_dir)"
printf 'time: %s\n' "${suite_times[@]}"
echo "time: all $((SECONDS)) s"
if [[ ${#failures[@]} -gt 0 ]]; then
    printf 'FAILED: %s\n' "${failures[@]}"
fi
[[ $skipped -eq 0 ]] || echo "$skipped skipped"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 && $passed -gt 0 ]]
