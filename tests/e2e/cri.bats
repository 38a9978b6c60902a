#!/usr/bin/env bats
# Kubernetes' path to tether: containerd 1.6's CRI plugin with the runtime
# handler from contrib/containerd/config.toml (the runc v2 shim with
# BinaryName = tether), selected by the handler named in
# contrib/kubernetes/runtimeclass.yaml, driven by tests/e2e/cri/cri.py over
# the CRI's gRPC API the way the kubelet drives it: RunPodSandbox,
# CreateContainer, StartContainer, ExecSync, StopPodSandbox, ...
#
# The containerd is private (own root, state, socket, CNI dirs, tether
# --root). Nothing is pulled: the sandbox image is a pause binary built here
# (tests/e2e/cri/pause.c), the workload image is the busybox of every e2e
# test; both are imported with `ctr -n k8s.io images import`. Pods use the
# host network (NamespaceMode NODE): without a CNI plugin that is the one
# network containerd 1.6 gives a pod, and no bridge is ever made.

load helpers

NS=k8s.io
PAUSE_IMAGE=localhost/tether-e2e-pause:1
CRI_PY=$E2E_DIR/cri/cri.py
# The pause image is cached across runs: it only changes with pause.c.
PAUSE_CACHE=$E2E_DIR/.cache/cri-pause
# Pods' cgroups go under this parent (cgroupfs driver), so that teardown
# finds everything the tests made.
CG_PARENT=tether-e2e-cri

setup_file() {
    require_client containerd ctr containerd-shim-runc-v2 cc
    /usr/bin/python3 -c 'import grpc, google.protobuf' 2>/dev/null ||
        skip "python3-grpcio and python3-protobuf are not installed (contrib/setup.sh installs them)"
    require_runtime
    ensure_image
    ensure_pause_image
    new_private_containerd_dir cri
    export TETHER_ROOT=$CTRD_DIR/tether
    cgroup_snapshot "$CG_PARENT" "$BATS_FILE_TMPDIR/cgroups-before"
    write_containerd_config >"$CTRD_DIR/config.toml"
    start_private_containerd cri Version
    c images import "$IMAGE_CACHE/oci.tar" >/dev/null
    c images import "$PAUSE_CACHE/oci.tar" >/dev/null
}

teardown_file() {
    find_private_containerd || return 0
    remove_all_pods
    stop_private_containerd
    remove_new_cgroups "$CG_PARENT" "$BATS_FILE_TMPDIR/cgroups-before"
    local id
    [[ -f $BATS_FILE_TMPDIR/ids ]] || return 0
    while read -r id; do
        [[ $id =~ ^[0-9a-f]{64}$ ]] && rm -f /var/log/tether/"$id".jsonl /var/log/tether/"$id".jsonl.*
    done <"$BATS_FILE_TMPDIR/ids"
    return 0
}

teardown() {
    remove_all_pods
    stop_loopback_listeners
}

# ---------------------------------------------------------------- set-up

# ensure_pause_image: $PAUSE_CACHE/oci.tar, a one-file image whose Cmd is
# the static pause binary.
ensure_pause_image() {
    local sum
    sum=$(sha256sum "$E2E_DIR/cri/pause.c" "$E2E_DIR/make-oci-archive.sh" | sha256sum | cut -c1-16)
    [[ $(cat "$PAUSE_CACHE/.done" 2>/dev/null) == "$sum" ]] && return 0
    rm -rf "$PAUSE_CACHE"
    mkdir -p "$PAUSE_CACHE/rootfs"
    cc -static -Os -s -o "$PAUSE_CACHE/rootfs/pause" "$E2E_DIR/cri/pause.c"
    tar --numeric-owner --owner=0 --group=0 -C "$PAUSE_CACHE/rootfs" -cf "$PAUSE_CACHE/rootfs.tar" pause
    OCI_CMD='["/pause"]' "$E2E_DIR/make-oci-archive.sh" "$PAUSE_CACHE/rootfs.tar" "$PAUSE_CACHE/oci.tar" "$PAUSE_IMAGE"
    echo "$sum" >"$PAUSE_CACHE/.done"
}

# write_containerd_config: a private containerd with the CRI plugin. The
# tether handler is contrib/containerd/config.toml itself, with the paths
# of this test's binary and runtime root put in: the snippet an operator
# copies is the one tested.
write_containerd_config() {
    cat <<EOF
version = 2
root = "$CTRD_DIR/root"
state = "$CTRD_DIR/state"
[grpc]
  address = "$CTRD_SOCK"
[plugins."io.containerd.internal.v1.opt"]
  path = "$CTRD_DIR/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # The streaming server (exec -it, attach) is not used; keep it off any
  # fixed port and on loopback.
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  disable_apparmor = true
  # The CRI gives the pause process oomScoreAdj -998; going below the
  # current value needs CAP_SYS_RESOURCE, which this machine kind's root
  # lacks (runc and crun fail the same way). Restricted, the CRI clamps it
  # to containerd's own score.
  restrict_oom_score_adj = true
[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "$CTRD_DIR/cni/bin"
  conf_dir = "$CTRD_DIR/cni/conf"
# Declaring any runtime replaces containerd's built-in list: runc, the
# default handler, must be declared too (as in a stock config.toml).
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
EOF
    grep -v '^version' "$REPO_ROOT/contrib/containerd/config.toml" |
        sed -e "s|\"/usr/local/bin/tether\"|\"$RUNTIME\"|" -e "s|\"/run/containerd/tether\"|\"$TETHER_ROOT\"|"
}

# ---------------------------------------------------------------- clients

c() {
    bounded ctr --address "$CTRD_SOCK" -n "$NS" "$@"
}

# cri METHOD [REQUEST_JSON]: one CRI call; the response JSON on stdout.
cri() {
    bounded /usr/bin/python3 "$CRI_PY" --address "$CTRD_SOCK" "$@"
}

# The handler pods ask for: the one the RuntimeClass manifest names.
runtime_handler() {
    awk '/^handler:/ {print $2; exit}' "$REPO_ROOT/contrib/kubernetes/runtimeclass.yaml"
}

# pod_config NAME [ANNOTATIONS_JSON]: a PodSandboxConfig on the host network
# with its own pid namespace, logs under the test's directory.
pod_config() {
    local name=$1 annotations=${2:-'{}'} uid
    uid=$(cat /proc/sys/kernel/random/uuid)
    jq -cn --arg name "$name" --arg uid "$uid" --arg logs "$CTRD_DIR/logs/$name-$uid" \
        --arg cg "/$CG_PARENT/pod$uid" --argjson annotations "$annotations" '{
        metadata: {name: $name, uid: $uid, namespace: "tether-e2e"},
        logDirectory: $logs,
        annotations: $annotations,
        linux: {cgroupParent: $cg,
                securityContext: {namespaceOptions: {network: 2, pid: 1, ipc: 0}}}
    }'
}

# run_pod CONFIG_JSON: RunPodSandbox with the tether handler; sets POD.
run_pod() {
    local out
    out=$(cri RunPodSandbox "$(jq -c --arg h "$(runtime_handler)" '{config: ., runtimeHandler: $h}' <<<"$1")") ||
        return 1
    POD=$(jq -r .podSandboxId <<<"$out")
    remember_id "$POD"
}

# start_container POD_CONFIG NAME CMD...: CreateContainer + StartContainer in
# $POD; prints the container id.
start_container() {
    local pod_cfg=$1 name=$2 out id
    shift 2
    out=$(cri CreateContainer "$(jq -cn --arg pod "$POD" --argjson sc "$pod_cfg" --arg name "$name" \
        --arg image "$IMAGE_NAME" --argjson cmd "$(json_array "$@")" '{
        podSandboxId: $pod, sandboxConfig: $sc,
        config: {metadata: {name: $name}, image: {image: $image}, command: $cmd,
                 logPath: ($name + ".log"), linux: {}}
    }')") || return 1
    id=$(jq -r .containerId <<<"$out")
    remember_id "$id"
    cri StartContainer "$(jq -cn --arg id "$id" '{containerId: $id}')" >/dev/null || return 1
    # A container that died at once says why here, not in a later assertion.
    local status
    status=$(container_status "$id")
    if [[ $(jq -r .state <<<"$status") != 1 ]]; then
        echo "container $name is not running: $status; log: $(cat "$(jq -r .logPath <<<"$status")" 2>&1)" >&2
        return 1
    fi
    echo "$id"
}

# exec_sync ID CMD...: ExecSync; prints the response JSON.
exec_sync() {
    local id=$1
    shift
    cri ExecSync "$(jq -cn --arg id "$id" --argjson cmd "$(json_array "$@")" '{containerId: $id, cmd: $cmd, timeout: 20}')"
}

container_status() {
    cri ContainerStatus "$(jq -cn --arg id "$1" '{containerId: $id}')" | jq -c .status
}

list_containers() {
    cri ListContainers "$(jq -cn --arg pod "$1" '{filter: {podSandboxId: $pod}}')" | jq -c '.containers // []'
}

stop_and_remove_pod() {
    local req
    req=$(jq -cn --arg id "$1" '{podSandboxId: $id}')
    cri StopPodSandbox "$req" >/dev/null && cri RemovePodSandbox "$req" >/dev/null
}

# Every pod of our containerd goes, whatever state a failed test left.
remove_all_pods() {
    local id
    [[ -S ${CTRD_SOCK:-} ]] || return 0
    # Through the CRI first, as the kubelet removes pods; their containers go with them.
    for id in $(cri ListPodSandbox 2>/dev/null | jq -r '.items // [] | .[].id'); do
        stop_and_remove_pod "$id" || true
    done
    # A sandbox the CRI lost track of: ctr removes what remains.
    for id in $(c containers list -q 2>/dev/null); do
        c task kill -s SIGKILL "$id" >/dev/null 2>&1 || true
        c task delete -f "$id" >/dev/null 2>&1 || true
        c containers delete "$id" >/dev/null 2>&1 || true
    done
}

# remember_id ID: a pod or container this file made; teardown_file removes
# the decision logs that outlive a sandbox by design (/var/log/tether/ID.jsonl).
remember_id() {
    echo "$1" >>"$BATS_FILE_TMPDIR/ids"
}

# The shim's bundle of a container: where tether read its config.json.
bundle_of() {
    echo "$CTRD_DIR/state/io.containerd.runtime.v2.task/$NS/$1"
}

# tether-netd processes serving one of the given container ids (the hook's
# command line names the container).
netd_pids_for() {
    local pid id
    for pid in $(pgrep -x tether-netd); do
        for id in "$@"; do
            grep -qsF -- "$id" "/proc/$pid/cmdline" "/proc/$pid/environ" && echo "$pid"
        done
    done | sort -u
}

# The BPF programs attached to a container's cgroup in the unified hierarchy.
bpf_prog_ids_for() {
    local cg
    for cg in $(find /sys/fs/cgroup/unified /sys/fs/cgroup -maxdepth 4 -type d -name "$1" 2>/dev/null); do
        [[ $(stat -fc %T "$cg") == cgroup2fs ]] || continue
        bpftool -j cgroup show "$cg" 2>/dev/null | jq -r '.[].id'
    done | sort -u
}

# ---------------------------------------------------------------- tests

@test "cri Version: containerd's CRI answers over runtime.v1" {
    run cri Version
    assert_success
    assert_equal "$(jq -r .runtimeName <<<"$output")" containerd
    assert_equal "$(jq -r .runtimeApiVersion <<<"$output")" v1
}

@test "cri: contrib's RuntimeClass names the handler that contrib's containerd snippet registers" {
    local handler
    handler=$(runtime_handler)
    assert_equal "$handler" tether
    grep -qF "containerd.runtimes.$handler]" "$REPO_ROOT/contrib/containerd/config.toml"
    # The handler is the tether runtime: the pod's containers are tether's.
    local cfg
    cfg=$(pod_config handler)
    run_pod "$cfg"
    run tether_state "$TETHER_ROOT/$NS" "$POD"
    assert_success
    assert_equal "$(jq -r .status <<<"$output")" running
}

@test "cri: two containers of a pod share its namespaces; ExecSync returns output and exit code; the shim writes the log" {
    local cfg a b id
    cfg=$(pod_config two)
    run_pod "$cfg"
    a=$(start_container "$cfg" first sh -c 'echo hello-from-first; trap "exit 143" TERM; while :; do sleep 1; done')
    b=$(start_container "$cfg" second sh -c 'echo hello-from-second >&2; trap "exit 143" TERM; while :; do sleep 1; done')

    run list_containers "$POD"
    assert_success
    assert_equal "$(jq -c '[.[].metadata.name] | sort' <<<"$output")" '["first","second"]'
    assert_equal "$(jq -c '[.[].state] | unique' <<<"$output")" '[1]'

    # The pod's network is the node's; the IPC and pid namespaces are the
    # pod's (the pause container's), joined by both: the containers ask for
    # no namespace of their own (NamespaceMode POD, as with the kubelet's
    # shareProcessNamespace), so tether joins them by path.
    local pause_pid
    pause_pid=$(tether_state "$TETHER_ROOT/$NS" "$POD" | jq -r .pid)
    for id in "$a" "$b"; do
        run exec_sync "$id" sh -c 'for n in net ipc pid; do readlink /proc/self/ns/$n; done'
        assert_success
        assert_equal "$(jq -r .stdout <<<"$output")" \
            "$(host_netns)"$'\n'"$(readlink /proc/$pause_pid/ns/ipc)"$'\n'"$(readlink /proc/$pause_pid/ns/pid)"
    done

    run exec_sync "$a" sh -c 'echo to-stdout; echo to-stderr >&2; exit 7'
    assert_success
    assert_equal "$(jq -r .exitCode <<<"$output")" 7
    assert_equal "$(jq -r .stdout <<<"$output")" to-stdout
    assert_equal "$(jq -r .stderr <<<"$output")" to-stderr

    # The shim's log, in the CRI format: <time> <stream> F <line>.
    local log
    log=$(container_status "$a" | jq -r .logPath)
    [[ $log == "$CTRD_DIR"/logs/* ]] || fail "log path: $log"
    retry_until 10 grep -q ' stdout F hello-from-first$' "$log" || fail "log: $(cat "$log")"
    log=$(container_status "$b" | jq -r .logPath)
    retry_until 10 grep -q ' stderr F hello-from-second$' "$log" || fail "log: $(cat "$log")"
}

@test "cri StopContainer: TERM reaches the container; ContainerStatus reports the exit; RemoveContainer removes it" {
    local cfg id
    cfg=$(pod_config stop)
    run_pod "$cfg"
    id=$(start_container "$cfg" svc "${SERVICE_CMD[@]}")
    run cri StopContainer "$(jq -cn --arg id "$id" '{containerId: $id, timeout: 10}')"
    assert_success
    run container_status "$id"
    assert_equal "$(jq -r .state <<<"$output")" 2
    assert_equal "$(jq -r .exitCode <<<"$output")" 143
    # The runtime's delete ran: tether has no state for it.
    run tether_state "$TETHER_ROOT/$NS" "$id"
    assert_failure
    run cri RemoveContainer "$(jq -cn --arg id "$id" '{containerId: $id}')"
    assert_success
    assert_equal "$(list_containers "$POD")" '[]'
}

@test "cri: pod annotations reach both containers and are enforced: the listed host loopback port only" {
    local listed unlisted cfg a b id
    listed=$(start_loopback_listener)
    unlisted=$(start_loopback_listener)
    # The unlisted port does accept connections: a refusal below is the sandbox's.
    (exec 3<>"/dev/tcp/127.0.0.1/$unlisted") || fail "the unlisted listener is not up"

    cfg=$(pod_config sandboxed "$(jq -cn --arg p "$listed" '{"run.tether.network.allowLocalOutboundPorts": $p}')")
    run_pod "$cfg"
    a=$(start_container "$cfg" first "${SERVICE_CMD[@]}")
    b=$(start_container "$cfg" second "${SERVICE_CMD[@]}")

    for id in "$POD" "$a" "$b"; do
        assert_equal "$(jq -r '.annotations["run.tether.network.allowLocalOutboundPorts"]' "$(bundle_of "$id")/config.json")" "$listed"
    done
    for id in "$a" "$b"; do
        run exec_sync "$id" sh -c "echo | nc 127.0.0.1 $listed && echo reached-listed; echo | nc 127.0.0.1 $unlisted 2>&1; echo rc=\$?"
        assert_success
        run jq -r .stdout <<<"$output"
        assert_line reached-listed
        assert_line --partial "Connection refused"
        assert_line rc=1
    done
}

@test "cri: stop and remove of a whole pod leave no state, cgroups, BPF programs of its own or tether-netd processes" {
    local listed cfg a b ids progs p id
    listed=$(start_loopback_listener)
    cfg=$(pod_config cleanup "$(jq -cn --arg p "$listed" '{"run.tether.network.allowLocalOutboundPorts": $p}')")
    run_pod "$cfg"
    a=$(start_container "$cfg" first "${SERVICE_CMD[@]}")
    b=$(start_container "$cfg" second "${SERVICE_CMD[@]}")
    ids=("$POD" "$a" "$b")

    # What there is to clean up, seen while the pod runs.
    for id in "${ids[@]}"; do
        [[ -d $TETHER_ROOT/$NS/$id ]] || fail "no tether state for $id"
        [[ -n $(find /sys/fs/cgroup -maxdepth 5 -type d -name "$id" 2>/dev/null) ]] || fail "no cgroup for $id"
    done
    progs=$(for id in "${ids[@]}"; do bpf_prog_ids_for "$id"; done)
    [[ -n $progs ]] || fail "no BPF program on the sandboxes' cgroups"
    [[ -n $(netd_pids_for "${ids[@]}") ]] || fail "no tether-netd serving the pod"

    run stop_and_remove_pod "$POD"
    assert_success

    run list_containers "$POD"
    assert_equal "$output" '[]'
    for id in "${ids[@]}"; do
        [[ ! -e $TETHER_ROOT/$NS/$id ]] || fail "tether state left: $TETHER_ROOT/$NS/$id"
        [[ ! -e $(bundle_of "$id") ]] || fail "shim bundle left: $(bundle_of "$id")"
        run find /sys/fs/cgroup -maxdepth 5 -type d -name "$id"
        assert_output ""
    done
    retry_until 10 eval '[[ -z $(netd_pids_for "${ids[@]}") ]]' ||
        fail "tether-netd left: $(netd_pids_for "${ids[@]}")"
    # The programs are the host's set, pinned for every sandbox (issue 23):
    # with the cgroups gone nothing holds them but the pins. Any other
    # program of the pod's is gone.
    local pinned="" f
    for f in /sys/fs/bpf/tether/*/*; do
        pinned+=" $(bpftool -j prog show pinned "$f" 2>/dev/null | jq -r '.id // empty') "
    done
    for p in $progs; do
        [[ $pinned == *" $p "* ]] && continue
        retry_until 10 eval "! bpftool prog show id $p >/dev/null 2>&1" || fail "BPF program $p left"
    done
}

@test "cri: a malformed pod annotation fails RunPodSandbox with tether's message" {
    local cfg
    cfg=$(pod_config malformed '{"run.tether.network.allowLocalOutboundPorts": "70000"}')
    run run_pod "$cfg"
    assert_failure
    assert_output --partial 'run.tether.network.allowLocalOutboundPorts: "70000" is not a port (1-65535)'
    # Nothing of it is left running.
    run cri ListContainers '{}'
    assert_equal "$(jq -c '.containers // []' <<<"$output")" '[]'
}
