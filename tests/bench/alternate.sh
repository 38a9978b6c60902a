#!/usr/bin/env bash
# tests/bench/alternate.sh ROUNDS RUNS LABEL CMD [LABEL CMD]...: side-by-side
# timing on a busy machine. hyperfine runs all runs of one command before
# the next, so a neighbour's build that starts halfway weighs on one side
# only; here each round is one hyperfine run of every command (the order
# rotates per round), and the table gives each command's median per round,
# the median and spread of those medians, and each command's ratio to the
# first, per round, and the CPU time (user+sys of everything the command
# forks; hyperfine's mean per round, median over the rounds). Commands run without a shell (hyperfine -N); prefix
# them with `env VAR=...` alike if one needs an environment variable.
set -euo pipefail
rounds=$1 runs=$2
shift 2
labels=() cmds=()
while (($#)); do labels+=("$1"); cmds+=("$2"); shift 2; done
n=${#labels[@]}
work=$(mktemp -d /tmp/tether-alternate.XXXXXX)
trap 'rm -rf "$work"' EXIT
for ((r = 0; r < rounds; r++)); do
    args=()
    for ((k = 0; k < n; k++)); do
        i=$(((k + r) % n))
        args+=(-n "${labels[$i]}" "${cmds[$i]}")
    done
    hyperfine -N -w "${WARMUP:-3}" -r "$runs" --export-json "$work/$r.json" "${args[@]}" >/dev/null 2>&1
    for ((i = 0; i < n; i++)); do
        jq -r --arg l "${labels[$i]}" '.results[] | select(.command == $l) | .median * 1000' "$work/$r.json" >>"$work/m$i"
        jq -r --arg l "${labels[$i]}" '.results[] | select(.command == $l) | (.user + .system) * 1000' "$work/$r.json" >>"$work/c$i"
    done
done
printf '| command | median per round (ms) | median of rounds | spread (min-max) | ratio to first, per round | median ratio | CPU ms (user+sys, median of rounds) |\n|---|---|---:|---:|---|---:|---:|\n'
for ((i = 0; i < n; i++)); do
    per=$(awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), $1 }' "$work/m$i")
    med=$(sort -g "$work/m$i" | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] }')
    spread=$(sort -g "$work/m$i" | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f-%.2f", lo, hi }')
    ratios=$(paste "$work/m$i" "$work/m0" | awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), $1 / $2 }')
    mratio=$(paste "$work/m$i" "$work/m0" | awk '{ print $1 / $2 }' | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] }')
    cpu=$(sort -g "$work/c$i" | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] }')
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "${labels[$i]}" "$per" "$med" "$spread" "$ratios" "$mratio" "$cpu"
done
echo
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
