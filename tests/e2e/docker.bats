#!/usr/bin/env bats
# Docker 20.10 (Debian's docker.io) running containers through tether. The
# test starts its own dockerd (private --data-root, --exec-root, socket and
# pid file; no iptables, no bridge; the daemon.json of contrib/docker with the
# path of the runtime under test) and stops it afterwards. dockerd starts and
# stops its own containerd under --exec-root.

load helpers

# The docker client from docker.io, whatever else is first on PATH.
DOCKER_CLI=/usr/bin/docker

setup_file() {
    require_client dockerd containerd containerd-shim-runc-v2
    [[ -x $DOCKER_CLI ]] || skip "$DOCKER_CLI is not installed (contrib/setup.sh installs docker.io)"
    require_runtime
    ensure_image
    # Unix socket paths are short (108 bytes): not under BATS_FILE_TMPDIR.
    DOCKERD_DIR=$(mktemp -d /tmp/tether-e2e-dockerd.XXXXXX)
    echo "$DOCKERD_DIR" >"$BATS_FILE_TMPDIR/dockerd-dir"
    export DOCKERD_DIR DOCKER_HOST=unix://$DOCKERD_DIR/docker.sock
    cgroup_snapshot docker "$BATS_FILE_TMPDIR/cgroups-before"
    # contrib/docker/daemon.json, pointed at the runtime under test.
    jq --arg rt "$RUNTIME" '.runtimes |= with_entries(.value.path = $rt) | del(.runtimes["tether-sandbox"])' \
        "$REPO_ROOT/contrib/docker/daemon.json" >"$DOCKERD_DIR/daemon.json"
    dockerd --config-file "$DOCKERD_DIR/daemon.json" \
        --data-root "$DOCKERD_DIR/data" --exec-root "$DOCKERD_DIR/exec" \
        --pidfile "$DOCKERD_DIR/dockerd.pid" -H "$DOCKER_HOST" \
        --iptables=false --ip-masq=false --ip-forward=false --bridge=none --userland-proxy=false \
        </dev/null >"$DOCKERD_DIR/dockerd.log" 2>&1 3>&- &
    echo $! >"$DOCKERD_DIR/dockerd.started-pid"
    retry_until 60 "$DOCKER_CLI" version >/dev/null 2>&1 ||
        fail "dockerd did not come up: $(tail -n 20 "$DOCKERD_DIR/dockerd.log")"
    bounded "$DOCKER_CLI" import "$IMAGE_CACHE/rootfs.tar" "$IMAGE_NAME" >/dev/null
}

teardown_file() {
    local dir pid
    dir=$(cat "$BATS_FILE_TMPDIR/dockerd-dir" 2>/dev/null) || return 0
    [[ -d $dir ]] || return 0
    export DOCKER_HOST=unix://$dir/docker.sock
    remove_docker_containers
    # dockerd stops its containerd on the way out.
    stop_pid "$(cat "$dir/dockerd.started-pid" 2>/dev/null)" 30
    # Anything still running from our exec root (containerd, shims).
    for pid in $(grep -lsF -- "$dir/" /proc/[0-9]*/cmdline | cut -d/ -f3); do
        stop_pid "$pid" 5
    done
    unmount_under "$dir"
    rm -rf "$dir"
    remove_new_cgroups docker "$BATS_FILE_TMPDIR/cgroups-before"
}

teardown() {
    remove_docker_containers
}

drun() {
    d run --runtime tether "$@"
}

# start_service: a detached container running SERVICE_CMD; sets CID.
start_service() {
    run drun -d --network none "$IMAGE_NAME" "${SERVICE_CMD[@]}"
    assert_success
    CID=${lines[-1]}
    [[ $CID =~ ^[0-9a-f]{64}$ ]] || fail "docker run -d printed no container id: $output"
}

# The runtime's state root (--root) dockerd gives its shims: a directory
# under the exec root holding one entry per container of namespace "moby".
docker_runtime_root() {
    local d
    for d in "$DOCKERD_DIR"/exec/runtime-*/moby; do
        [[ -d $d/$CID ]] && { echo "$d"; return; }
    done
    echo "$DOCKERD_DIR/exec/runtime-tether/moby"
}

@test "docker: the daemon.json snippet registers tether" {
    run d info --format '{{json .Runtimes}}'
    assert_success
    assert_equal "$(jq -r '.tether.path' <<<"$output")" "$RUNTIME"
}

@test "docker run --rm: stdout and the exit code reach the user" {
    run drun --rm --network none "$IMAGE_NAME" echo hello from tether
    assert_success
    assert_output "hello from tether"

    run drun --rm --network none "$IMAGE_NAME" sh -c 'echo out; exit 7'
    assert_equal "$status" 7
    assert_output out

    run -127 drun --rm --network none "$IMAGE_NAME" no-such-command
    assert_equal "$status" 127
    assert_output --partial "executable file not found in \$PATH"
}

@test "docker run -d, exec, stop, rm" {
    start_service
    run d inspect --format '{{.HostConfig.Runtime}} {{.State.Status}}' "$CID"
    assert_output "tether running"
    run tether_state "$(docker_runtime_root)" "$CID"
    assert_success
    assert_equal "$(jq -r .status <<<"$output")" running

    run d exec "$CID" sh -c 'echo exec says hi; cat /proc/1/cmdline | tr "\0" " "'
    assert_success
    assert_line "exec says hi"
    assert_line --partial "while :; do sleep 1; done"
    run d exec "$CID" sh -c 'exit 5'
    assert_equal "$status" 5

    run d stop -t 10 "$CID"
    assert_success
    run d inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$CID"
    assert_output "exited 143"
    run d rm "$CID"
    assert_success
    run tether_state "$(docker_runtime_root)" "$CID"
    assert_failure
}

@test "docker run -t: the process runs on a terminal" {
    run drun --rm -t --network none "$IMAGE_NAME" sh -c 'tty; [ -t 1 ] && echo stdout-is-a-tty'
    assert_success
    assert_output --regexp '/dev/pts/[0-9]+'
    assert_output --partial stdout-is-a-tty
}

@test "docker --network none: only a loopback interface, not the host's namespace" {
    run drun --rm --network none "$IMAGE_NAME" sh -c 'readlink /proc/self/ns/net; ls /sys/class/net'
    assert_success
    [[ ${lines[0]} != "$(host_netns)" ]] || fail "the container shares the host's network namespace"
    assert_equal "${lines[*]:1}" lo
}

@test "docker --network host: the host's network namespace" {
    run drun --rm --network host "$IMAGE_NAME" readlink /proc/self/ns/net
    assert_success
    assert_output "$(host_netns)"
}

@test "docker: a failing prestart hook's stderr and exit status reach the docker user" {
    # Docker has no hooks directory: a runtime entry whose wrapper adds a
    # failing prestart hook to the bundle's config.json before tether's create
    # stands in for a misconfigured hook. The wrapper is registered with
    # dockerd's reload (SIGHUP re-reads --config-file's runtimes).
    local wrapper=$DOCKERD_DIR/tether-boom hook=$DOCKERD_DIR/boom.sh
    printf '#!/bin/sh\ncat >/dev/null\necho "boom: the database is not there" >&2\nexit 3\n' >"$hook"
    cat >"$wrapper" <<EOF
#!/bin/sh
prev=
for arg in "\$@"; do
    if [ "\$prev" = --bundle ]; then
        jq '.hooks.prestart += [{path: "$hook"}]' "\$arg/config.json" >"\$arg/config.json.boom" &&
            mv "\$arg/config.json.boom" "\$arg/config.json"
    fi
    prev=\$arg
done
exec "$RUNTIME" "\$@"
EOF
    chmod +x "$hook" "$wrapper"
    jq --arg w "$wrapper" '.runtimes["tether-boom"] = {path: $w}' "$DOCKERD_DIR/daemon.json" >"$DOCKERD_DIR/daemon.json.new"
    mv "$DOCKERD_DIR/daemon.json.new" "$DOCKERD_DIR/daemon.json"
    kill -HUP "$(cat "$DOCKERD_DIR/dockerd.started-pid")"
    retry_until 20 sh -c "'$DOCKER_CLI' info --format '{{json .Runtimes}}' | grep -q tether-boom" ||
        fail "dockerd did not register the tether-boom runtime"
    run d run --rm --runtime tether-boom --network none "$IMAGE_NAME" echo must-not-run
    assert_failure
    refute_output --partial must-not-run
    assert_output --partial "$hook failed with exit status 3"
    assert_output --partial "boom: the database is not there"
}
