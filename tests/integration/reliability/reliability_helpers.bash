#!/usr/bin/env bash
# Helpers shared by the reliability battery (tests/integration/reliability).
# They load the suite's helpers.bash and add "refused" checks: a hostile
# input must get a clear error, a non-zero exit that is not a crash or a
# timeout, and leave nothing behind.

load ../helpers

# Text that only a crash or an uncaught exception prints.
CRASH_PATTERN='terminate called|what\(\):|Segmentation fault|core dumped|Aborted|AddressSanitizer|runtime error:|std::'

# invoke ARGS...: the runtime with this test's --root, output in $output and
# exit code in $status. Output goes to a file, never a pipe: if a hostile
# create wrongly succeeded, its init would hold a pipe open for its life.
# The last argument is remembered as an id for teardown.
invoke() {
    printf '%s\n' "${*: -1}" >>"$TEST_DIR/ids"
    echo "$RUNTIME" >"$ROOT.bin"
    status=0
    timeout -k 5 "$RUNTIME_TIMEOUT" "$RUNTIME" --root "$ROOT" "$@" \
        </dev/null >"$TEST_DIR/invoke.out" 2>&1 3>&- || status=$?
    output=$(cat "$TEST_DIR/invoke.out")
    mapfile -t lines <<<"$output"
}

# check_refused NAME REGEX ID: the last invoke failed cleanly with a message
# matching REGEX (extended, case-insensitive) and nothing of ID remains.
# Problems are appended to $TEST_DIR/problems so one test reports every
# failing case at once.
check_refused() {
    local name=$1 regex=$2 id=$3 why=()
    if [[ $status -eq 0 ]]; then
        why+=("exit 0 (accepted)")
    elif [[ $status -ge 124 ]]; then
        why+=("exit $status (crash, signal or timeout)")
    fi
    [[ -n $output ]] || why+=("no error message")
    if grep -Eq "$CRASH_PATTERN" <<<"$output"; then why+=("crash text in output"); fi
    if [[ -n $regex ]] && ! grep -Eiq -- "$regex" <<<"$output"; then why+=("message does not match /$regex/"); fi
    # A refused create must not have left its id behind.
    if [[ $status -ne 0 ]] && ! assert_no_leftovers "$ROOT" "$id" 2>"$TEST_DIR/leftovers"; then
        why+=("$(cat "$TEST_DIR/leftovers")")
    fi
    echo "case: $name -> $status: ${output:0:300}" >&2
    if [[ ${#why[@]} -gt 0 ]]; then
        printf 'FAILED CASE %s: %s\n' "$name" "${why[*]}" >>"$TEST_DIR/problems"
        # Clean up an accepted case so that the next one starts clean.
        timeout -k 5 "$RUNTIME_TIMEOUT" "$RUNTIME" --root "$ROOT" delete --force "$id" </dev/null >/dev/null 2>&1 || true
    fi
    echo "$name" >>"$TEST_DIR/cases"
}

# refuse_config NAME REGEX JQ: create with the pristine config edited by JQ
# must be refused.
refuse_config() {
    local name=$1 regex=$2 expr=$3 id
    cp "$TEST_DIR/pristine.json" "$BUNDLE/config.json"
    [[ -z $expr ]] || update_config "$expr" || {
        echo "FAILED CASE $name: bad jq in the test" >>"$TEST_DIR/problems"
        return 0
    }
    id=$(new_id)
    invoke create --bundle "$BUNDLE" "$id"
    check_refused "$name" "$regex" "$id"
}

# refuse_text NAME REGEX TEXT: config.json is exactly TEXT.
refuse_text() {
    local name=$1 regex=$2 text=$3 id
    printf '%s' "$text" >"$BUNDLE/config.json"
    id=$(new_id)
    invoke create --bundle "$BUNDLE" "$id"
    check_refused "$name" "$regex" "$id"
}

# refuse_args NAME REGEX ARGS...: a command line that must be refused; the
# last argument is the id checked for leftovers.
refuse_args() {
    local name=$1 regex=$2
    shift 2
    cp "$TEST_DIR/pristine.json" "$BUNDLE/config.json"
    invoke "$@"
    check_refused "$name" "$regex" "${*: -1}"
}

# no_problems: fail the test listing every failed case (after all ran).
no_problems() {
    echo "$(wc -l <"$TEST_DIR/cases") cases run" >&2
    if [[ -s $TEST_DIR/problems ]]; then
        cat "$TEST_DIR/problems" >&2
        return 1
    fi
}

reliability_setup() {
    require_runtime
    setup_bundle
    cp "$BUNDLE/config.json" "$TEST_DIR/pristine.json"
    : >"$TEST_DIR/problems"
    : >"$TEST_DIR/cases"
}
