#!/usr/bin/env bash
# tests/bench/run.sh [SECTION...]: benchmarks tether side by side with crun and
# runc on the same busybox bundle, and prints a table of medians and ratios.
# Not part of the test suite's pass/fail (tests/run-all.sh does not run it).
#
# Sections (default: all, in this order):
#   lifecycle   `run` of /bin/true: tether, crun, runc and the floor
#               (unshare -m -p -n -u -i -f /bin/true); create+start+delete as
#               separate verbs; with cgroup limits; with a user namespace
#   sandbox     the same run with the sandbox annotations vs without
#   throughput  100 containers created, started, deleted back to back and 2 at
#               a time; the cost of one more with 10..200 in the state dir
#   memory      peak RSS of `create` (/usr/bin/time -v); tether-netd RSS idle
#               and under 100 connections
#   sandboxes   N sandboxes at once (N in MANY, default "10 50 100"): the
#               total and per-create time of N back-to-back sandboxed
#               creates, and the RSS (and PSS) of each one's tether-netd
#   network     connect latency (10k connects) and UDP sendto cost (200k
#               datagrams): no sandbox, the sandbox enforced by the cgroup
#               socket programs, and by the seccomp supervisor alone; bridge
#               and proxy (tests/bench/net/run.sh)
#   egress      one HTTP exchange up to the first byte (connect, request,
#               first byte of the answer) from a sandboxed container to a
#               server on 192.0.2.10 in a network namespace of the bench's
#               own: transparent (a direct connect, redirected in the kernel
#               to tether-netd), through the proxy with CONNECT, and direct
#               without a sandbox (issue 21's target: transparent within
#               1.2x of CONNECT)
#   cgroupjoin  what a new process pays to get into a cgroup2 cgroup after a
#               quiet spell: forked then moved (writing cgroup.procs) or born
#               there (clone3 CLONE_INTO_CGROUP), alternated
#               (tests/bench/cgroup_join.c; JOIN_SAMPLES, default 15, and
#               JOIN_GAP_MS of quiet before each, default 200). Another
#               process moving pids meanwhile (a build, a test suite) keeps
#               the kernel's lock warm and hides the cost: run it alone
#
# Each benchmark runs its programs in ONE hyperfine invocation (same run, same
# machine state), with warm-up runs. The ratio column is the benchmark's first
# program (the subject, tether) divided by the row's program: "0.80" under
# crun means tether takes 80% of crun's time.
#
# Environment:
#   TETHER     the tether binary (default: <repo>/build-bench/tether, built
#              in Release if missing)
#   RUNS       hyperfine runs per program (default 30; QUICK=1: 10)
#   WARMUP     hyperfine warm-up runs (default 3)
#   SCALE      state-dir sizes for the scaling benchmark (default "10 50 200")
#   N_THROUGHPUT  containers per throughput run (default 100; QUICK=1: 20)
#   MANY       sandbox counts for the sandboxes section (default "10 50 100";
#              QUICK=1: "10 50")
#   CONNECT_RUNS  runs of each connect benchmark, alternating (default 9; QUICK=1: 5)
#   EGRESS_N   HTTP exchanges per egress run (default 2000; QUICK=1: 500)
#   QUICK=1    fewer runs and containers (a smoke run of the script itself)
#   BENCH_OUT  also write the table here (markdown)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$repo/build-bench}
TETHER=${TETHER:-$build/tether}
QUICK=${QUICK:-0}
RUNS=${RUNS:-$([[ $QUICK == 1 ]] && echo 10 || echo 30)}
CONNECT_RUNS=${CONNECT_RUNS:-$([[ $QUICK == 1 ]] && echo 5 || echo 9)}
WARMUP=${WARMUP:-3}
SCALE=${SCALE:-$([[ $QUICK == 1 ]] && echo "10 50" || echo "10 50 200")}
MANY=${MANY:-$([[ $QUICK == 1 ]] && echo "10 50" || echo "10 50 100")}
EGRESS_N=${EGRESS_N:-$([[ $QUICK == 1 ]] && echo 500 || echo 2000)}
N_THROUGHPUT=${N_THROUGHPUT:-$([[ $QUICK == 1 ]] && echo 20 || echo 100)}
sections=("$@")
[[ ${#sections[@]} -gt 0 ]] || sections=(lifecycle sandbox throughput memory sandboxes network egress cgroupjoin)

die() { echo "bench: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "run as root (containers with cgroups)"
for tool in hyperfine jq crun runc unshare /usr/bin/time gcc; do
    command -v "$tool" >/dev/null || die "$tool not found (contrib/setup.sh installs it)"
done
if [[ ! -x $TETHER ]]; then
    echo "bench: building $TETHER (Release)" >&2
    cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" -j"$(nproc)" --target tether tether-netd >/dev/null
fi
TETHER=$(cd "$(dirname "$TETHER")" && pwd)/$(basename "$TETHER")
NETD=$(dirname "$TETHER")/tether-netd
CRUN=$(command -v crun)
RUNC=$(command -v runc)

work=$(mktemp -d /tmp/tether-bench.XXXXXX)
results=$work/results.tsv
: >"$results"
mounted_hugetlb=""
egress_ns="" egress_server=""

# ------------------------------------------------------------------ cleanup

# Every container any section made lives under one of these roots: force
# delete them all, whatever state the run stopped in.
cleanup() {
    local status=$? root id
    for root in "$work"/roots/*; do
        [[ -d $root ]] || continue
        local rt
        rt=$(cat "$root.runtime" 2>/dev/null) || continue
        for id in $("$rt" --root "$root" list -q 2>/dev/null); do
            timeout 20 "$rt" --root "$root" delete -f "$id" >/dev/null 2>&1 || true
        done
    done
    [[ -n $egress_server ]] && kill "$egress_server" 2>/dev/null
    [[ -n $egress_ns ]] && ip netns delete "$egress_ns" 2>/dev/null
    [[ -n $mounted_hugetlb ]] && umount "$mounted_hugetlb" 2>/dev/null && rmdir "$mounted_hugetlb" 2>/dev/null
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# root_for RUNTIME NAME: a fresh state root remembered for cleanup.
root_for() {
    local root=$work/roots/$2
    mkdir -p "$root"
    echo "$1" >"$root.runtime"
    echo "$root"
}

# ------------------------------------------------------------------ host setup

# crun 1.8 refuses a hybrid/v1 host where the hugetlb v1 controller is enabled
# but not mounted. Detect the layout instead of assuming it.
ensure_hugetlb_v1() {
    [[ $(stat -f -c %T /sys/fs/cgroup) == cgroup2fs ]] && return 0   # unified: nothing to do
    awk '$1 == "hugetlb" && $4 == 1 { found = 1 } END { exit !found }' /proc/cgroups || return 0
    grep -qE ' - cgroup [^ ]+ [^ ]*hugetlb' /proc/self/mountinfo && return 0
    mkdir -p /sys/fs/cgroup/hugetlb
    mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb
    mounted_hugetlb=/sys/fs/cgroup/hugetlb
    echo "bench: mounted the hugetlb v1 hierarchy for crun (unmounted at exit)" >&2
}

# make_bundle DIR [JQ]: busybox rootfs + runc's default spec, /bin/true,
# no terminal; the same config.json for all three runtimes.
rootfs_cache=$work/rootfs-cache
make_bundle() {
    local dir=$1 edit=${2:-.}
    if [[ ! -d $rootfs_cache ]]; then
        ROOTFS_ONLY=1 "$repo/contrib/make-busybox-bundle.sh" "$rootfs_cache" >/dev/null
        gcc -O2 -static -o "$rootfs_cache/rootfs/bin/connect_loop" "$here/connect_loop.c"
        gcc -O2 -static -o "$rootfs_cache/rootfs/bin/egress_loop" "$here/egress_loop.c"
        gcc -O2 -o "$work/notify_floor" "$here/notify_floor.c"
    fi
    mkdir -p "$dir"
    cp -a "$rootfs_cache/rootfs" "$dir/rootfs"
    (cd "$dir" && "$RUNC" spec)
    jq '.process.terminal = false | .process.args = ["/bin/true"] | .root.path = "rootfs"' "$dir/config.json" |
        jq "$edit" >"$dir/config.json.new"
    mv "$dir/config.json.new" "$dir/config.json"
}

# ------------------------------------------------------------------ recording

# record BENCH PROGRAM MEDIAN [NOTE] [CPU_MS]
record() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-}" "${5:-}" >>"$results"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# hf MODE BENCH LABEL CMD [LABEL CMD]...: one hyperfine run of all commands
# (MODE: "none" runs each command without a shell, "sh" through sh -c). A
# command that fails its dry run is recorded as n/a with its last error line
# instead of aborting the benchmark.
hf() {
    local mode=$1 bench=$2
    shift 2
    local args=() labels=() all=() failed=() out json=$work/hf.json
    while (($#)); do
        local label=$1 cmd=$2
        shift 2
        all+=("$label")
        if [[ ${HF_DRY_RUN:-1} == 1 ]] && ! out=$(timeout 60 sh -c "$cmd" 2>&1 >/dev/null); then
            failed+=("n/a (fails: $(tail -n1 <<<"$out" | cut -c1-100))")
            continue
        fi
        failed+=("")
        labels+=("$label")
        args+=(-n "$label" "$cmd")
    done
    if ((${#labels[@]} == 0)); then
        for i in "${!all[@]}"; do record "$bench" "${all[$i]}" "" "${failed[$i]}"; done
        return 0
    fi
    local shell_opt=()
    [[ $mode == none ]] && shell_opt=(-N)
    echo "== $bench" >&2
    hyperfine "${shell_opt[@]}" --runs "$RUNS" --warmup "$WARMUP" --style basic --export-json "$json" \
        "${args[@]}" >&2
    # Rows in the order given (failed ones included); wall-clock median, and
    # the mean CPU time (user+sys of the runtime and its children), which is
    # what matters on a busy machine where the wall clock mostly measures the
    # scheduler.
    local i j=0
    for i in "${!all[@]}"; do
        if [[ -n ${failed[$i]} ]]; then
            record "$bench" "${all[$i]}" "" "${failed[$i]}"
            continue
        fi
        record "$bench" "${all[$i]}" "$(jq -r ".results[$j].median * 1000" "$json")" \
            "$(jq -r '"±" + (.results['"$j"'].stddev * 1000 | . * 100 | round / 100 | tostring)' "$json")" \
            "$(jq -r "(.results[$j].user + .results[$j].system) * 1000" "$json")"
        j=$((j + 1))
    done
}

# ------------------------------------------------------------------ sections

lifecycle() {
    local b=$work/bundle rt=$work/roots
    [[ -d $b ]] || make_bundle "$b"
    local tr cr rr
    tr=$(root_for "$TETHER" tether) cr=$(root_for "$CRUN" crun) rr=$(root_for "$RUNC" runc)
    hf none "run /bin/true" \
        tether "$TETHER --root $tr run -b $b lc-t" \
        crun "$CRUN --root $cr run -b $b lc-c" \
        runc "$RUNC --root $rr run -b $b lc-r" \
        "floor (unshare)" "unshare -m -p -n -u -i -f /bin/true"

    hf sh "create+start+delete (3 verbs)" \
        tether "$TETHER --root $tr create -b $b v-t && $TETHER --root $tr start v-t && $TETHER --root $tr delete -f v-t" \
        crun "$CRUN --root $cr create -b $b v-c && $CRUN --root $cr start v-c && $CRUN --root $cr delete -f v-c" \
        runc "$RUNC --root $rr create -b $b v-r && $RUNC --root $rr start v-r && $RUNC --root $rr delete -f v-r"

    # No runtime here runs without a cgroup (only crun's --cgroup-manager=disabled
    # does); the default run already creates one, this adds limits to write.
    local bl=$work/bundle-limits
    [[ -d $bl ]] || make_bundle "$bl" '.linux.resources += {memory: {limit: 268435456}, pids: {limit: 128}, cpu: {shares: 512}}'
    hf none "run /bin/true, cgroup limits (memory, pids, cpu)" \
        tether "$TETHER --root $tr run -b $bl lm-t" \
        crun "$CRUN --root $cr run -b $bl lm-c" \
        runc "$RUNC --root $rr run -b $bl lm-r" \
        "crun, no cgroup" "$CRUN --cgroup-manager=disabled --root $cr run -b $b lm-c0"

    local bu=$work/bundle-userns
    [[ -d $bu ]] || make_bundle "$bu" '.linux.namespaces += [{type: "user"}]
        | .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
        | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
        | .mounts |= map(select(.type != "cgroup"))'
    # The rootfs belongs to the container's root, as with any userns image.
    chown -R 100000:100000 "$bu/rootfs"
    hf none "run /bin/true, user namespace" \
        tether "$TETHER --root $tr run -b $bu lu-t" \
        crun "$CRUN --root $cr run -b $bu lu-c" \
        runc "$RUNC --root $rr run -b $bu lu-r"
}

# The sandbox annotations: Landlock (write confinement), a network policy
# (seccomp-notify supervisor + tether-netd prestart hook with one bridged
# port and the egress proxy).
sandbox_annotations='.annotations += {
    "run.tether.filesystem.allowWrite": "/tmp",
    "run.tether.filesystem.denyRead": "/etc/hostname",
    "run.tether.network.allowLocalOutboundPorts": "5432",
    "run.tether.network.allowedDomains": "example.com"}'

# sandbox_missing: empty when `tether run` with the annotations really
# sandboxes (denyRead masks /etc/hostname, tether-netd exists), else why not.
sandbox_missing() {
    [[ -x $NETD ]] || { echo "needs tether-netd built next to tether"; return; }
    local b=$work/bundle-sandbox-probe r
    [[ -d $b ]] || make_bundle "$b" "$sandbox_annotations"' | .process.args = ["cat", "/etc/hostname"]'
    r=$(root_for "$TETHER" sandbox-probe)
    local out
    if ! out=$(timeout 30 "$TETHER" --root "$r" run -b "$b" probe 2>&1); then
        echo "needs the sandbox wired into create: $(tail -n1 <<<"$out" | cut -c1-80)"
    elif [[ $out == *tether-bundle* ]]; then
        echo "needs the sandbox wired into create: annotations ignored"
    fi
}

sandbox() {
    local missing
    missing=$(sandbox_missing)
    if [[ -n $missing ]]; then
        record "sandbox: run /bin/true" "tether sandbox" "" "n/a ($missing)"
        return 0
    fi
    local b=$work/bundle bs=$work/bundle-sandbox
    [[ -d $b ]] || make_bundle "$b"
    [[ -d $bs ]] || make_bundle "$bs" "$sandbox_annotations"
    local tr cr
    tr=$(root_for "$TETHER" sandbox-t) cr=$(root_for "$CRUN" sandbox-c)
    hf none "sandbox: run /bin/true (Landlock + supervisor + netd)" \
        "tether sandbox" "$TETHER --root $tr run -b $bs sb-t" \
        "tether plain" "$TETHER --root $tr run -b $b pl-t" \
        "crun plain" "$CRUN --root $cr run -b $b pl-c"
}

# $work/cycle RUNTIME ROOT BUNDLE PREFIX N: create, start, delete N containers.
write_cycle_script() {
    cat >"$work/cycle" <<'SCRIPT'
#!/bin/sh
rt=$1 root=$2 b=$3 prefix=$4 n=$5 i=0
while [ "$i" -lt "$n" ]; do
    "$rt" --root "$root" create -b "$b" "$prefix-$i" &&
        "$rt" --root "$root" start "$prefix-$i" &&
        "$rt" --root "$root" delete -f "$prefix-$i" || exit 1
    i=$((i + 1))
done
SCRIPT
    chmod +x "$work/cycle"
}

throughput() {
    local b=$work/bundle
    [[ -d $b ]] || make_bundle "$b"
    write_cycle_script
    local c=$work/cycle name rt root cmds1=() cmds2=() half=$((N_THROUGHPUT / 2))
    for name in tether crun runc; do
        case $name in tether) rt=$TETHER ;; crun) rt=$CRUN ;; runc) rt=$RUNC ;; esac
        root=$(root_for "$rt" "tp-$name")
        cmds1+=("$name" "$c $rt $root $b s $N_THROUGHPUT")
        cmds2+=("$name" "$c $rt $root $b a $half & p=\$!; $c $rt $root $b b $half; s=\$?; wait \$p && [ \$s = 0 ]")
    done
    local saved_runs=$RUNS saved_warmup=$WARMUP
    RUNS=3 WARMUP=1 HF_DRY_RUN=0
    hf sh "$N_THROUGHPUT containers back to back (create+start+delete)" "${cmds1[@]}"
    hf sh "$N_THROUGHPUT containers, 2 at a time" "${cmds2[@]}"
    RUNS=$saved_runs WARMUP=$saved_warmup HF_DRY_RUN=1

    # The cost of one more container with N created ones in the state dir
    # (each an init waiting for start): does anything scan the whole root?
    local n i
    for n in $SCALE; do
        local args=()
        for name in tether crun runc; do
            case $name in tether) rt=$TETHER ;; crun) rt=$CRUN ;; runc) rt=$RUNC ;; esac
            root=$(root_for "$rt" "scale-$name-$n")
            for ((i = 0; i < n; i++)); do "$rt" --root "$root" create -b "$b" "idle-$i" >/dev/null; done
            args+=("$name" "$rt --root $root create -b $b one && $rt --root $root start one && $rt --root $root delete -f one")
        done
        hf sh "create+start+delete with $n in the state dir" "${args[@]}"
        for name in tether crun runc; do
            case $name in tether) rt=$TETHER ;; crun) rt=$CRUN ;; runc) rt=$RUNC ;; esac
            root=$work/roots/scale-$name-$n
            for ((i = 0; i < n; i++)); do "$rt" --root "$root" delete -f "idle-$i" >/dev/null 2>&1 || true; done
        done
    done
}

# peak_rss_kb RUNTIME ROOT BUNDLE: median "Maximum resident set size" of 5 creates.
peak_rss_kb() {
    local rt=$1 root=$2 b=$3 i values=()
    for i in 1 2 3 4 5; do
        /usr/bin/time -v -o "$work/time.txt" "$rt" --root "$root" create -b "$b" "rss-$i" >/dev/null 2>&1 || return 1
        "$rt" --root "$root" delete -f "rss-$i" >/dev/null 2>&1
        values+=("$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.txt")")
    done
    printf '%s\n' "${values[@]}" | sort -n | sed -n 3p
}

memory() {
    local b=$work/bundle name rt root kb
    [[ -d $b ]] || make_bundle "$b"
    for name in tether crun runc; do
        case $name in tether) rt=$TETHER ;; crun) rt=$CRUN ;; runc) rt=$RUNC ;; esac
        root=$(root_for "$rt" "rss-$name")
        if kb=$(peak_rss_kb "$rt" "$root" "$b"); then
            record "peak RSS of create (MB, median of 5)" "$name" "$(awk -v k="$kb" 'BEGIN { print k / 1024 }')"
        else
            record "peak RSS of create (MB, median of 5)" "$name" "" "n/a (create failed)"
        fi
    done
    netd_rss
}

# RSS of the per-container tether-netd, idle and with 100 connections open
# from the container through its bridge to a host listener. The container
# opens them when the file /go appears in its (writable) rootfs: no `exec`.
netd_rss() {
    local bench="tether-netd RSS (MB)" missing
    missing=$(sandbox_missing)
    if [[ -n $missing ]]; then
        record "$bench" "idle" "" "n/a ($missing)"
        return 0
    fi
    local port b=$work/bundle-netd root pid i
    port=$(free_port)
    [[ -d $b ]] || make_bundle "$b" "$sandbox_annotations"' | .root.readonly = false
        | .annotations["run.tether.network.allowLocalOutboundPorts"] = "'"$port"'"
        | .process.args = ["sh", "-c", "until [ -e /go ]; do sleep 0.1; done; for i in $(seq 100); do sleep 3600 | nc 127.0.0.1 '"$port"' & done; wait"]'
    root=$(root_for "$TETHER" netd)
    # A host listener that holds every connection open (-u: reads, never writes).
    socat -u TCP-LISTEN:"$port",bind=127.0.0.1,reuseaddr,fork,backlog=256 OPEN:/dev/null &
    local listener=$!
    if ! "$TETHER" --root "$root" run -d -b "$b" netd >/dev/null 2>"$work/netd.err"; then
        record "$bench" "idle" "" "n/a (run -d failed: $(tail -n1 "$work/netd.err" | cut -c1-80))"
    elif ! pid=$(netd_pid "$root/netd") || [[ -z $pid ]]; then
        record "$bench" "idle" "" "n/a (no tether-netd process found for the container)"
    else
        record "$bench" "idle" "$(rss_mb "$pid")"
        touch "$b/rootfs/go"
        # Wait (bounded) until the daemon holds the 100 relayed connections.
        for ((i = 0; i < 100; i++)); do
            [[ $(ls /proc/"$pid"/fd | wc -l) -ge 200 ]] && break
            sleep 0.1
        done
        record "$bench" "100 connections" "$(rss_mb "$pid")" "$(ls /proc/"$pid"/fd | wc -l) fds open"
    fi
    "$TETHER" --root "$root" delete -f netd >/dev/null 2>&1 || true
    kill "$listener" 2>/dev/null || true
    wait "$listener" 2>/dev/null || true
}

# N sandboxes alive at once, as a node running a pod of N would have them:
# N sandboxed creates back to back (each leaves an init waiting for start
# and its tether-netd serving), then every daemon's memory. Linear means the
# per-create median stays flat as N grows; RSS counts the shared libc pages
# in every daemon, PSS shares them out (the machine's real cost per daemon).
sandboxes() {
    local missing
    missing=$(sandbox_missing)
    if [[ -n $missing ]]; then
        record "sandboxes at once" "tether" "" "n/a ($missing)"
        return 0
    fi
    local b=$work/bundle-many n root i t0 t1 times p rss pss
    local totals=() creates=() rss_rows=() pss_rows=()
    [[ -d $b ]] || make_bundle "$b" "$sandbox_annotations"
    for n in $MANY; do
        root=$(root_for "$TETHER" "many-$n")
        times=()
        for ((i = 0; i < n; i++)); do
            t0=$(date +%s%N)
            "$TETHER" --root "$root" create -b "$b" "sb-$i" >/dev/null 2>"$work/many.err" ||
                die "sandboxes: create $i of $n failed: $(tail -n1 "$work/many.err")"
            t1=$(date +%s%N)
            times+=("$(((t1 - t0) / 1000))")
        done
        rss=() pss=()
        for ((i = 0; i < n; i++)); do
            p=$(cat "$root/sb-$i/netd.pid" 2>/dev/null) || continue
            rss+=("$(rss_mb "$p")")
            pss+=("$(awk '/^Pss:/ { print $2 / 1024 }' "/proc/$p/smaps_rollup")")
        done
        local total_ms per_ms p90_ms
        total_ms=$(printf '%s\n' "${times[@]}" | awk '{ s += $1 } END { printf "%.1f", s / 1000 }')
        per_ms=$(awk -v us="$(median "${times[@]}")" 'BEGIN { printf "%.2f", us / 1000 }')
        p90_ms=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", v[int(NR * 0.9 + 0.5)] / 1000 }')
        totals+=("$n"$'\t'"$total_ms"$'\t'"$(awk -v t="$total_ms" -v n="$n" 'BEGIN { printf "%.2f ms per sandbox", t / n }')")
        creates+=("$n"$'\t'"$per_ms"$'\t'"p90 $p90_ms ms")
        rss_rows+=("$n"$'\t'"$(median "${rss[@]}")"$'\t'"max $(printf '%s\n' "${rss[@]}" | sort -g | tail -n1) MB; ${#rss[@]} daemons")
        pss_rows+=("$n"$'\t'"$(median "${pss[@]}")"$'\t'"sum $(printf '%s\n' "${pss[@]}" | awk '{ s += $1 } END { printf "%.1f", s }') MB")
        for ((i = 0; i < n; i++)); do "$TETHER" --root "$root" delete -f "sb-$i" >/dev/null 2>&1 || true; done
    done
    # One benchmark per measure, a row per N: the ratio column then reads
    # as "the first N's figure over this N's".
    local row bench
    for bench in totals creates rss_rows pss_rows; do
        local -n rows=$bench
        local title
        case $bench in
            totals) title="N sandboxes created back to back: total (ms)" ;;
            creates) title="N sandboxes: one create, median (ms)" ;;
            rss_rows) title="N sandboxes: tether-netd RSS each, median (MB)" ;;
            pss_rows) title="N sandboxes: tether-netd PSS each, median (MB)" ;;
        esac
        for row in "${rows[@]}"; do
            IFS=$'\t' read -r n value note <<<"$row"
            record "$title" "N=$n" "$value" "$note"
        done
        unset -n rows
    done
}

# free_port: a loopback TCP port nobody listens on.
free_port() {
    local port
    while :; do
        port=$((20000 + RANDOM % 20000))
        ss -Htln "sport = :$port" | grep -q . || { echo "$port"; return; }
    done
}

# netd_pid STATE_DIR: the tether-netd whose command line names the state dir.
netd_pid() {
    local p
    for p in /proc/[0-9]*; do
        [[ $(cat "$p/comm" 2>/dev/null) == tether-netd ]] || continue
        tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF "$1" && { basename "$p"; return; }
    done
}

rss_mb() { awk '/^VmRSS/ { print $2 / 1024 }' "/proc/$1/status"; }

network() {
    local b=$work/bundle-connect bs=$work/bundle-connect-sandbox bo=$work/bundle-connect-supervisor root
    # CAP_NET_ADMIN: connect_loop sets lo up where the runtime left it down.
    local caps='.process.capabilities |= with_entries(.value += ["CAP_NET_ADMIN"])'
    [[ -d $b ]] || make_bundle "$b" "$caps"' | .process.args = ["/bin/connect_loop", "10000"]'
    root=$(root_for "$TETHER" connect)
    local missing
    missing=$(sandbox_missing)
    [[ -n $missing ]] || [[ -d $bs ]] ||
        make_bundle "$bs" "$sandbox_annotations | $caps"' | .process.args = ["/bin/connect_loop", "10000"]'
    # The supervisor alone: what a host without cgroup v2 (or rootless) gets.
    [[ -n $missing ]] || [[ -d $bo ]] ||
        make_bundle "$bo" "$sandbox_annotations | $caps"' | .annotations += {"run.tether.sandbox.bestEffort": "true"}
            | .process.args = ["/bin/connect_loop", "10000"]'
    local kind args unit
    for kind in tcp udp; do
        if [[ $kind == tcp ]]; then
            args='["/bin/connect_loop", "10000"]'
            unit="connect+accept+close on loopback (µs, 10k; median of $CONNECT_RUNS)"
        else
            args='["/bin/connect_loop", "200000", "udp"]'
            unit="UDP sendto on loopback (µs per datagram, 200k; median of $CONNECT_RUNS)"
        fi
        local dir
        for dir in "$b" "$bs" "$bo"; do
            [[ -d $dir ]] && jq --argjson a "$args" '.process.args = $a' "$dir/config.json" >"$dir/c.json" &&
                mv "$dir/c.json" "$dir/config.json"
        done
        local direct
        direct=$(unshare -n sh -c "ip link set lo up 2>/dev/null || busybox ip link set lo up; $rootfs_cache/rootfs/bin/connect_loop $(jq -r '.[1:] | join(" ")' <<<"$args")")
        record "$unit" "host netns (unshare -n)" "$direct"
        # Plain, kernel-enforced and supervised runs alternate, so that a
        # noisy neighbour on a shared host weighs on all alike; the medians
        # are compared.
        local plains=() kernel=() supervised=() value i
        for ((i = 0; i < CONNECT_RUNS; i++)); do
            if value=$(timeout 120 "$TETHER" --root "$root" run -b "$b" "c-plain-$i" 2>"$work/c.err"); then
                plains+=("$value")
            else
                echo "bench: connect_loop failed: $(tail -n1 "$work/c.err")" >&2
            fi
            [[ -n $missing ]] && continue
            if value=$(timeout 300 "$TETHER" --root "$root" run -b "$bs" "c-bpf-$i" 2>"$work/c.err"); then
                kernel+=("$value")
            else
                echo "bench: kernel-enforced connect_loop failed: $(tail -n1 "$work/c.err")" >&2
            fi
            if value=$(TETHER_TEST_SOCKET_BPF=off timeout 300 "$TETHER" --root "$root" run -b "$bo" "c-sup-$i" 2>"$work/c.err"); then
                supervised+=("$value")
            else
                echo "bench: supervised connect_loop failed: $(tail -n1 "$work/c.err")" >&2
            fi
        done
        local plain="" bpf="" sup=""
        ((${#plains[@]})) && plain=$(median "${plains[@]}")
        ((${#kernel[@]})) && bpf=$(median "${kernel[@]}")
        ((${#supervised[@]})) && sup=$(median "${supervised[@]}")
        record "$unit" "tether, no sandbox" "$plain" "$([[ -z $plain ]] && echo "n/a ($(tail -n1 "$work/c.err"))")"
        if [[ -n $missing ]]; then
            record "$unit" "tether, sandbox (kernel enforcement)" "" "n/a ($missing)"
            record "$unit" "tether, sandbox (supervisor only)" "" "n/a ($missing)"
        else
            record "$unit" "tether, sandbox (kernel enforcement)" "$bpf" \
                "$([[ -n $bpf && -n $plain ]] && awk -v s="$bpf" -v p="$plain" 'BEGIN { printf "%+.2f µs (%.1f%%)", s - p, 100 * (s - p) / p }')"
            record "$unit" "tether, sandbox (supervisor only)" "$sup" \
                "$([[ -n $sup && -n $plain ]] && awk -v s="$sup" -v p="$plain" 'BEGIN { printf "%+.2f µs (%.1f%%)", s - p, 100 * (s - p) / p }')"
        fi
    done
    # The floor under any supervisor here: one trapped call answered by the
    # smallest possible one (receive, CONTINUE), over the same call untrapped.
    local floors=()
    for ((i = 0; i < CONNECT_RUNS; i++)); do floors+=("$("$work/notify_floor" 20000)"); done
    record "connect+accept+close on loopback (µs, 10k; median of $CONNECT_RUNS)" \
        "floor: minimal notify round trip (tests/bench/notify_floor.c)" "" \
        "+$(median "${floors[@]}") µs per trapped call"
    # Bridge and proxy data paths: the netd engineer's benchmark program.
    if [[ -x $here/net/run.sh ]]; then
        echo "== bridge and proxy (tests/bench/net/run.sh, NET_BENCH_PIN=${NET_BENCH_PIN:-})" >&2
        BUILD_DIR=$build "$here/net/run.sh" | tee "$work/net.txt" >&2 || true
        parse_net_bench "$work/net.txt"
    else
        record "bridge / proxy" "tether-netd" "" "n/a (needs tests/bench/net/run.sh)"
    fi
}

# egress: transparent egress against CONNECT against direct. Everything runs
# in a network namespace of the bench's own (192.0.2.10 on its lo, a private
# /etc/hosts naming allowed.test): the runtime and its tether-netd through a
# wrapper, as tests/integration/sandbox_transparent.bats does; the
# containers have their own namespaces with only lo.
egress() {
    local missing
    missing=$(sandbox_missing)
    local unit="HTTP exchange to the first byte (µs, $EGRESS_N; median of $CONNECT_RUNS)"
    if [[ -n $missing ]] || ! command -v nsenter python3 >/dev/null; then
        record "$unit" "transparent (sandbox, kernel redirect)" "" "n/a (${missing:-needs nsenter and python3})"
        return
    fi
    egress_ns=tether-bench-egress-$$
    ip netns add "$egress_ns"
    ip -n "$egress_ns" link set lo up
    ip -n "$egress_ns" addr add 192.0.2.10/32 dev lo
    printf '127.0.0.1 localhost\n192.0.2.10 allowed.test\n' >"$work/egress-hosts"
    local wrap=$work/tether-in-egress-ns
    cat >"$wrap" <<SH
#!/bin/sh
exec nsenter --net=/var/run/netns/$egress_ns unshare -m sh -c 'mount --bind "\$0" /etc/hosts && exec "\$@"' "$work/egress-hosts" "$TETHER" "\$@"
SH
    chmod +x "$wrap"
    # One answer per connection, as soon as the request head is in.
    nsenter --net=/var/run/netns/"$egress_ns" python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("192.0.2.10", 8080))
s.listen(512)
open(sys.argv[1], "w").close()
while True:
    c, _ = s.accept()
    head = b""
    while b"\r\n\r\n" not in head:
        d = c.recv(4096)
        if not d:
            break
        head += d
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    c.close()
' "$work/egress-ready" </dev/null >/dev/null 2>&1 &
    egress_server=$!
    local i
    for ((i = 0; i < 100; i++)); do [[ -f $work/egress-ready ]] && break; sleep 0.1; done
    [[ -f $work/egress-ready ]] || die "egress: the server on 192.0.2.10:8080 did not start"

    local b=$work/bundle-egress bc=$work/bundle-egress-connect root
    local caps='.process.capabilities |= with_entries(.value += ["CAP_NET_ADMIN"])'
    local policy='.annotations += {"run.tether.network.allowedDomains": "allowed.test",
                                   "run.tether.network.allowPrivateUpstreams": "192.0.2.0/24"}'
    [[ -d $b ]] || make_bundle "$b" "$policy | $caps | .process.args = [\"/bin/egress_loop\", \"$EGRESS_N\", \"192.0.2.10\", \"8080\", \"allowed.test\"]"
    [[ -d $bc ]] || make_bundle "$bc" "$policy | $caps | .process.args = [\"/bin/egress_loop\", \"$EGRESS_N\", \"192.0.2.10\", \"8080\", \"allowed.test\", \"connect\"]"
    root=$(root_for "$TETHER" egress)
    # Alternated rounds, so that a noisy neighbour weighs on all three alike.
    local direct=() transparent=() via_connect=() value
    for ((i = 0; i < CONNECT_RUNS; i++)); do
        value=$(nsenter --net=/var/run/netns/"$egress_ns" "$rootfs_cache/rootfs/bin/egress_loop" "$EGRESS_N" 192.0.2.10 8080 allowed.test) &&
            direct+=("$value")
        if value=$(timeout 300 "$wrap" --root "$root" run -b "$b" "egress-t-$i" 2>"$work/e.err"); then
            transparent+=("$value")
        else
            echo "bench: transparent egress_loop failed: $(tail -n1 "$work/e.err")" >&2
        fi
        if value=$(timeout 300 "$wrap" --root "$root" run -b "$bc" "egress-c-$i" 2>"$work/e.err"); then
            via_connect+=("$value")
        else
            echo "bench: CONNECT egress_loop failed: $(tail -n1 "$work/e.err")" >&2
        fi
    done
    local t="" c="" d=""
    ((${#transparent[@]})) && t=$(median "${transparent[@]}")
    ((${#via_connect[@]})) && c=$(median "${via_connect[@]}")
    ((${#direct[@]})) && d=$(median "${direct[@]}")
    record "$unit" "transparent (sandbox, kernel redirect)" "$t" "runs: ${transparent[*]:-none}"
    record "$unit" "CONNECT through the proxy (sandbox)" "$c" "runs: ${via_connect[*]:-none}; target: transparent ÷ this ≤ 1.2"
    record "$unit" "direct (no sandbox, the bench's namespace)" "$d" "runs: ${direct[*]:-none}"
    kill "$egress_server" 2>/dev/null
    wait "$egress_server" 2>/dev/null || true
    egress_server=""
    ip netns delete "$egress_ns"
    egress_ns=""
}

# cgroupjoin: see the header. The cgroup is a scratch one below the cgroup2
# root, removed at exit with the bench's other cgroups.
cgroupjoin() {
    local v2 dir line
    v2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
    [[ -n $v2 ]] || { record "join a cgroup2 cgroup (ms)" "born (CLONE_INTO_CGROUP)" "" "n/a (no cgroup2 mount)"; return; }
    gcc -O2 -o "$work/cgroup_join" "$here/cgroup_join.c"
    dir=$v2/tether-bench-join.$$
    mkdir "$dir"
    line=$("$work/cgroup_join" "$dir" "${JOIN_SAMPLES:-15}" "${JOIN_GAP_MS:-200}") || line=""
    rmdir "$dir"
    [[ -n $line ]] || { record "join a cgroup2 cgroup (ms)" "born (CLONE_INTO_CGROUP)" "" "n/a (cgroup_join failed)"; return; }
    read -r _ move move_spread _ born born_spread <<<"$line"
    record "join a cgroup2 cgroup after ${JOIN_GAP_MS:-200} ms quiet (ms)" "born (CLONE_INTO_CGROUP: tether, crun)" "$born" "min-max $born_spread"
    record "join a cgroup2 cgroup after ${JOIN_GAP_MS:-200} ms quiet (ms)" "forked, then moved (cgroup.procs: runc)" "$move" "min-max $move_spread"
}

# Turns net_bench's lines into table rows.
parse_net_bench() {
    local f=$1 line
    line=$(grep -m1 '^  direct .*tether-bridge' "$f" | head -1) || true
    if [[ -n $line ]] && grep -q 'socat' <<<"$line" && grep -q 'MiB/s' "$f"; then
        read -r _ d _ t _ _ s _ <<<"$line"
        record "bridge throughput (MiB/s, higher is better)" "tether-bridge" "$t" "$(awk -v t="$t" -v d="$d" 'BEGIN { printf "%.0f%% of direct", 100 * t / d }')"
        record "bridge throughput (MiB/s, higher is better)" "direct loopback" "$d"
        record "bridge throughput (MiB/s, higher is better)" "socat" "$s"
    fi
    line=$(grep -A1 '^connection latency' "$f" | tail -1) || true
    if [[ -n $line ]]; then
        read -r _ d _ t _ s <<<"$line"
        record "connection latency via bridge (µs)" "tether-bridge" "$t"
        record "connection latency via bridge (µs)" "direct loopback" "$d"
        record "connection latency via bridge (µs)" "socat" "$s"
    fi
    line=$(grep -m1 '^  direct .* via proxy .* added' "$f") || true
    if [[ -n $line ]]; then
        read -r _ d _ _ p _ a <<<"$line"
        local cpu
        cpu=$(grep -m1 '^  CPU per request' "$f" | sed -E 's/.*added ([-0-9.]+ \([^)]*\)).*/\1/') || true
        record "HTTP request via proxy (µs)" "via proxy" "$p" "added $a µs (median of single-request samples); CPU added per request ${cpu:-?} µs"
        record "HTTP request via proxy (µs)" "direct" "$d"
    fi
    line=$(grep '^proxy CONNECT throughput' "$f") || true
    if [[ -n $line ]]; then
        local d p
        d=$(sed -E 's/.*direct ([0-9.]+).*/\1/' <<<"$line") p=$(sed -E 's/.*via proxy ([0-9.]+).*/\1/' <<<"$line")
        record "proxy CONNECT throughput (MiB/s, higher is better)" "via proxy" "$p" "$(awk -v p="$p" -v d="$d" 'BEGIN { printf "%.0f%% of direct", 100 * p / d }')"
        record "proxy CONNECT throughput (MiB/s, higher is better)" "direct" "$d"
    fi
}

# ------------------------------------------------------------------ table

print_table() {
    awk -F'\t' '
        BEGIN {
            print "| benchmark | program | median | subject ÷ this | CPU ms (user+sys) | subject ÷ this (CPU) | note |"
            print "|---|---|---:|---:|---:|---:|---|"
        }
        {
            value = ($3 == "") ? "n/a" : sprintf("%.2f", $3)
            cpu = ($5 == "") ? "" : sprintf("%.1f", $5)
            if ($1 != current) { current = $1; subject = $3; subject_cpu = $5; name = $1 } else name = ""
            ratio = ($3 != "" && subject != "" && $3 + 0 > 0 && name == "") ? sprintf("%.2f", subject / $3) : ""
            cpu_ratio = ($5 != "" && subject_cpu != "" && $5 + 0 > 0 && name == "") ? sprintf("%.2f", subject_cpu / $5) : ""
            printf "| %s | %s | %s | %s | %s | %s | %s |\n", name, $2, value, ratio, cpu, cpu_ratio, $4
        }' "$results"
}

# Only the sections that run crun need its hugetlb hierarchy.
for section in "${sections[@]}"; do
    [[ $section == sandboxes || $section == network || $section == egress || $section == cgroupjoin ]] ||
        { ensure_hugetlb_v1; break; }
done
for section in "${sections[@]}"; do
    case $section in
        lifecycle | sandbox | throughput | memory | sandboxes | network | egress | cgroupjoin) "$section" ;;
        *) die "unknown section $section (lifecycle sandbox throughput memory sandboxes network egress cgroupjoin)" ;;
    esac
done

{
    echo
    echo "tether $("$TETHER" --version | head -1 | awk '{print $3}'), $("$CRUN" --version | head -1), $("$RUNC" --version | head -1)"
    echo "$(uname -sr), $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "median times in ms unless the benchmark says otherwise; hyperfine runs=$RUNS warmup=$WARMUP"
    echo
    print_table
} | tee ${BENCH_OUT:+"$BENCH_OUT"}
