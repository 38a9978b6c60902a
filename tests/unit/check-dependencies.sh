#!/usr/bin/env bash
# check-dependencies.sh [REPO]: the dependency rule of CMakeLists.txt, checked
# over every #include "..." of spec/, runtime/ and hooks/. Prints each
# violation as FILE:LINE: INCLUDE (why) and exits 1 if there is any.
set -uo pipefail
repo=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
cd "$repo" || exit 2

violations=0
violation() {
    echo "$1: $2 ($3)"
    violations=$((violations + 1))
}

while IFS= read -r match; do
    file=${match%%:*}
    rest=${match#*:}
    line=${rest%%:*}
    include=$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"${rest#*:}")
    where="$file:$line"
    case $file in
        spec/*)
            [[ $include == spec/* ]] || violation "$where" "$include" "spec/ depends on nothing of ours" ;;
        runtime/core/*)
            [[ $include == spec/* || $include == runtime/core/* ]] ||
                violation "$where" "$include" "runtime/core/ depends only on spec/" ;;
        runtime/*)
            [[ $include == spec/* || $include == runtime/* || $include == hooks/protocol.hpp ]] ||
                violation "$where" "$include" "runtime/ reaches hooks/ only through hooks/protocol.hpp" ;;
        hooks/*)
            [[ $include == spec/* || $include == runtime/core/* || $include == hooks/* ]] ||
                violation "$where" "$include" "hooks/ depends only on runtime/core/ and spec/" ;;
    esac
done < <(grep -rnE '^[[:space:]]*#include "' spec runtime hooks --include='*.cpp' --include='*.hpp')

if [[ $violations -gt 0 ]]; then
    echo "$violations include(s) break the dependency rule (CMakeLists.txt)"
    exit 1
fi
echo "dependency rule: every include of spec/, runtime/ and hooks/ is allowed"
