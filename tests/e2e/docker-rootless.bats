#!/usr/bin/env bats
# Rootless Docker (Debian's docker.io: dockerd-rootless.sh, with rootlesskit,
# slirp4netns and newuidmap/newgidmap) running containers through tether.
# The test makes a user with its own subordinate id ranges and starts
# dockerd-rootless.sh as that user the way a rootless user does without a
# systemd user manager: XDG_RUNTIME_DIR=/run/user/<uid> (made here), the data
# root under its HOME, contrib's daemon.json as ~/.config/docker/daemon.json
# (tether, and tether-sandbox with --default-policy in runtimeArgs, pointed at
# a copy of the runtime under test), plus --add-runtime tether-wrapper=<a
# script running tether --default-policy>. It stops the daemon by pid and
# removes the user, its ranges and its files afterwards.
#
# dockerd runs in rootlesskit's namespaces: a user namespace, and a network
# namespace that slirp4netns connects outside (tap0). So --network host is
# rootlesskit's network namespace, not the host's, and its loopback is the
# one a sandbox is or is not allowed to reach: the tests' listeners are
# started there. (The host's own loopback is out of reach of every rootless
# container: dockerd-rootless.sh passes --disable-host-loopback.)
# slirp4netns needs /dev/net/tun, 0666 on a usual host but root-only on the
# CI machines: the test user gets an ACL entry on it for the duration.
#
# The runtime's state dir is the real rootless one,
# /run/user/<uid>/docker/runtime-runc/moby/<64 hex>: its netd.sock path is
# longer than a unix socket address may be (107 bytes).

load helpers

DOCKER_CLI=/usr/bin/docker
DOCKERD_ROOTLESS=/usr/share/docker.io/contrib/dockerd-rootless.sh
E2E_USER=tether-e2e-docker
# Not podman-rootless.bats's range (3400000000).
SUBID_START=3401000000

setup_file() {
    require_client dockerd containerd containerd-shim-runc-v2 rootlesskit slirp4netns newuidmap newgidmap \
        useradd userdel setpriv setfacl getfacl nsenter
    [[ -x $DOCKER_CLI && -x $DOCKERD_ROOTLESS ]] ||
        skip "$DOCKER_CLI or $DOCKERD_ROOTLESS is missing (contrib/setup.sh installs docker.io)"
    require_user_namespaces
    require_runtime
    ensure_image
    if id "$E2E_USER" >/dev/null 2>&1; then
        # A previous run died before its teardown: start from nothing.
        remove_runtime_dir "$(id -u "$E2E_USER")"
        setfacl -x "u:$(id -u "$E2E_USER")" /dev/net/tun 2>/dev/null || true  # entry of an earlier run
        remove_test_user "$E2E_USER"
    fi
    ROOTLESS_DIR=$(mktemp -d /tmp/tether-e2e-docker-rootless.XXXXXX)
    echo "$ROOTLESS_DIR" >"$BATS_FILE_TMPDIR/rootless-dir"
    chmod 755 "$ROOTLESS_DIR"
    add_test_user "$E2E_USER" "$ROOTLESS_DIR/home" "$SUBID_START"
    E2E_UID=$(id -u "$E2E_USER")
    XDG_DIR=/run/user/$E2E_UID
    [[ ! -e $XDG_DIR ]] || fail "$XDG_DIR exists already: not ours to use"
    echo "$E2E_UID" >"$BATS_FILE_TMPDIR/uid"
    mkdir -p "$ROOTLESS_DIR/home/.config/docker" "$ROOTLESS_DIR/bin" "$XDG_DIR"
    # The user runs its own copy: the build tree may not be readable to it.
    install -m 0755 "$RUNTIME" "$(dirname "$RUNTIME")/tether-netd" "$ROOTLESS_DIR/bin/"
    # contrib/docker/daemon.json as the user's own: both runtimes point at the
    # copy, tether-sandbox's --default-policy at a file the tests rewrite.
    jq --arg rt "$ROOTLESS_DIR/bin/tether" --arg policy "$ROOTLESS_DIR/policy.json" \
        '.runtimes |= with_entries(.value.path = $rt) | .runtimes["tether-sandbox"].runtimeArgs[1] = $policy' \
        "$REPO_ROOT/contrib/docker/daemon.json" >"$ROOTLESS_DIR/home/.config/docker/daemon.json"
    echo '{}' >"$ROOTLESS_DIR/policy.json"
    # The other way to give Docker a policy: a wrapper registered with
    # --add-runtime (what a user without runtimeArgs in daemon.json does).
    printf '#!/bin/sh\nexec %q --default-policy %q "$@"\n' "$ROOTLESS_DIR/bin/tether" "$ROOTLESS_DIR/policy.json" \
        >"$ROOTLESS_DIR/bin/tether-policy-wrapper"
    chmod 0755 "$ROOTLESS_DIR/bin/tether-policy-wrapper"
    chown -R "$E2E_USER:" "$ROOTLESS_DIR/home" "$XDG_DIR"
    chmod 700 "$XDG_DIR"
    [[ -c /dev/net/tun ]] || fail "/dev/net/tun is missing: slirp4netns (rootless Docker's network) needs it"
    grant_tun "$E2E_UID"
    # setpriv execs (no supervising parent as with runuser): the pid is
    # rootlesskit's, which stops dockerd and its containerd on SIGTERM.
    setpriv --reuid="$E2E_UID" --regid="$E2E_UID" --init-groups -- env -i \
        HOME="$ROOTLESS_DIR/home" USER="$E2E_USER" LOGNAME="$E2E_USER" \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        XDG_RUNTIME_DIR="$XDG_DIR" \
        "$DOCKERD_ROOTLESS" --add-runtime "tether-wrapper=$ROOTLESS_DIR/bin/tether-policy-wrapper" \
        --iptables=false --ip-masq=false --ip-forward=false --bridge=none --userland-proxy=false </dev/null >"$ROOTLESS_DIR/dockerd.log" 2>&1 3>&- &
    echo $! >"$ROOTLESS_DIR/rootlesskit.pid"
    export DOCKER_HOST=unix://$XDG_DIR/docker.sock
    retry_until 60 "$DOCKER_CLI" version >/dev/null 2>&1 ||
        fail "rootless dockerd did not come up: $(tail -n 20 "$ROOTLESS_DIR/dockerd.log")"
    [[ -s $XDG_DIR/docker.pid ]] || fail "no $XDG_DIR/docker.pid"
    bounded "$DOCKER_CLI" import "$IMAGE_CACHE/rootfs.tar" "$IMAGE_NAME" >/dev/null
}

teardown_file() {
    local dir uid
    dir=$(cat "$BATS_FILE_TMPDIR/rootless-dir" 2>/dev/null) || dir=
    uid=$(cat "$BATS_FILE_TMPDIR/uid" 2>/dev/null) || uid=
    if [[ -n $uid ]]; then
        export DOCKER_HOST=unix:///run/user/$uid/docker.sock
        remove_docker_containers
    fi
    [[ -n $dir ]] && stop_pid "$(cat "$dir/rootlesskit.pid" 2>/dev/null)" 30
    remove_test_user "$E2E_USER"  # whatever of the user's still runs
    if [[ -n $uid ]]; then
        remove_runtime_dir "$uid"
        revoke_tun "$uid"
    fi
    if [[ -n $dir && -d $dir ]]; then
        unmount_under "$dir"
        rm -rf "$dir"
    fi
}

setup() {
    E2E_UID=$(cat "$BATS_FILE_TMPDIR/uid")
    ROOTLESS_DIR=$(cat "$BATS_FILE_TMPDIR/rootless-dir")
    export DOCKER_HOST=unix:///run/user/$E2E_UID/docker.sock
    # dockerd's network namespace: rootlesskit's, what --network host joins.
    DOCKERD_NETNS=/proc/$(cat "/run/user/$E2E_UID/docker.pid")/ns/net
}

teardown() {
    remove_docker_containers
    stop_loopback_listeners
}

# grant_tun UID: read-write on /dev/net/tun for UID (an ACL entry) unless it
# has that already; revoke_tun UID puts the node back as it was (no extended
# ACL at all when it had none).
grant_tun() {
    setpriv --reuid="$1" --regid="$1" --init-groups -- sh -c '[ -r /dev/net/tun ] && [ -w /dev/net/tun ]' && return 0
    if [[ -z $(getfacl -p --skip-base /dev/net/tun 2>/dev/null) ]]; then
        echo none >"$BATS_FILE_TMPDIR/tun-acl"
    else
        echo entry >"$BATS_FILE_TMPDIR/tun-acl"
    fi
    setfacl -m "u:$1:rw" /dev/net/tun
}

revoke_tun() {
    case $(cat "$BATS_FILE_TMPDIR/tun-acl" 2>/dev/null) in
        none) setfacl -b /dev/net/tun || true ;;
        entry) setfacl -x "u:$1" /dev/net/tun || true ;;
    esac
}

# remove_runtime_dir UID: the XDG_RUNTIME_DIR this file made.
remove_runtime_dir() {
    [[ $1 =~ ^[1-9][0-9]*$ && -d /run/user/$1 ]] || return 0
    unmount_under "/run/user/$1"
    rm -rf "/run/user/$1"
}

# write_policy JSON: tether-sandbox's --default-policy, read at each create.
write_policy() {
    echo "$1" >"$ROOTLESS_DIR/policy.json"
}

# The runtime's state dir of container $1 (its --root is dockerd's choice).
state_dir_of() {
    local d
    for d in /run/user/"$E2E_UID"/docker/runtime-*/moby/"$1"; do
        [[ -d $d ]] && { echo "$d"; return 0; }
    done
    return 1
}

@test "rootless docker: the daemon runs as the test user, contrib's daemon.json registers tether" {
    run d info --format '{{json .SecurityOptions}} {{json .Runtimes}}'
    assert_success
    assert_output --partial '"name=rootless"'
    assert_equal "$(jq -r '.tether.path' <<<"${output#* }")" "$ROOTLESS_DIR/bin/tether"
    assert_equal "$(jq -c '.["tether-sandbox"].runtimeArgs' <<<"${output#* }")" \
        "[\"--default-policy\",\"$ROOTLESS_DIR/policy.json\"]"
    assert_equal "$(jq -r '.["tether-wrapper"].path' <<<"${output#* }")" "$ROOTLESS_DIR/bin/tether-policy-wrapper"
}

@test "rootless docker run: a plain container runs through tether in the user's namespace" {
    run d run --rm --runtime tether --network none "$IMAGE_NAME" \
        sh -c 'echo hello from rootless docker; id -u; cat /proc/self/uid_map'
    assert_success
    assert_line "hello from rootless docker"
    assert_line 0
    # uid 0 inside is the test user outside, then the subordinate range.
    assert_line --regexp "^ +0 +$E2E_UID +1$"
    assert_line --regexp "^ +1 +$SUBID_START +65536$"

    run d run --rm --runtime tether --network none "$IMAGE_NAME" sh -c 'echo out; exit 7'
    assert_equal "$status" 7
    assert_output out
}

# bpf(2) for cgroup socket programs needs CAP_BPF and CAP_NET_ADMIN in the
# initial user namespace; tether-netd runs in rootlesskit's. The fail-closed
# rule: create fails unless the policy says bestEffort, and the docker CLI
# shows the reason (the hook's stderr travels in the runtime's error).
@test "rootless docker: a sandbox without bestEffort fails create, and the docker CLI says why" {
    local listed
    listed=$(start_loopback_listener "$DOCKERD_NETNS")
    write_policy "{\"network\": {\"allowLocalOutboundPorts\": [$listed]}}"
    run d run --rm --runtime tether-sandbox --network host "$IMAGE_NAME" echo must-not-run
    assert_failure 125
    refute_output --partial must-not-run
    assert_output --partial "kernel enforcement is unavailable"
    assert_output --partial "tether-netd runs in a user namespace (rootless; uid 0 here is uid $E2E_UID outside)"
    assert_output --partial "CAP_BPF and CAP_NET_ADMIN in the initial user namespace"
    assert_output --partial "sandbox.bestEffort"
    # Nothing left behind: no state dir, no tether-netd.
    run compgen -G "/run/user/$E2E_UID/docker/runtime-*/moby/*"
    assert_output ""
    run pgrep -u "$E2E_UID" -x tether-netd
    assert_failure
}

# With bestEffort the seccomp supervisor alone decides (a notify filter
# beside Docker's seccomp profile and the closures). Without the sandbox the
# same probe reaches both ports: the refusal below is the sandbox's.
@test "rootless docker: with bestEffort, a sandbox on --network host reaches its listed loopback port only" {
    local listed unlisted plain
    listed=$(start_loopback_listener "$DOCKERD_NETNS")
    unlisted=$(start_loopback_listener "$DOCKERD_NETNS")
    run d run --rm --runtime tether --network host "$IMAGE_NAME" sh -c "$(sandbox_probe_cmd "$listed" "$unlisted")"
    assert_probe_reached_both
    plain=$(grep '^Seccomp_filters:' <<<"$output" | cut -d: -f2)

    write_policy "{\"network\": {\"allowLocalOutboundPorts\": [$listed]}, \"sandbox\": {\"bestEffort\": true}}"
    run d run --rm --runtime tether-sandbox --network host "$IMAGE_NAME" \
        sh -c "$(sandbox_probe_cmd "$listed" "$unlisted")"
    assert_probe_reached_listed_only
    [[ $(($(grep '^Seccomp_filters:' <<<"$output" | cut -d: -f2))) == $((plain + 2)) ]] ||
        fail "expected $((plain + 2)) seccomp filters (profile, closures, notify): $output"

    # The same policy through the --add-runtime wrapper.
    run d run --rm --runtime tether-wrapper --network host "$IMAGE_NAME" \
        sh -c "$(sandbox_probe_cmd "$listed" "$unlisted")"
    assert_probe_reached_listed_only
}

# In a network namespace of its own the sandbox has only lo; tether-netd's
# bridge joins the container's 127.0.0.1:<listed port> to the same port on
# the loopback of dockerd's namespace, where tether-netd runs.
@test "rootless docker: with bestEffort, a sandbox in its own network namespace reaches its listed port through the bridge only" {
    local listed unlisted
    listed=$(start_loopback_listener "$DOCKERD_NETNS")
    unlisted=$(start_loopback_listener "$DOCKERD_NETNS")
    write_policy "{\"network\": {\"allowLocalOutboundPorts\": [$listed]}, \"sandbox\": {\"bestEffort\": true}}"
    run d run --rm --runtime tether-sandbox --network none "$IMAGE_NAME" \
        sh -c "ls /sys/class/net; $(sandbox_probe_cmd "$listed" "$unlisted")"
    assert_success
    assert_line --index 0 lo
    assert_line reached-listed
    assert_line --partial "Connection refused"
}

# The state dir is /run/user/<uid>/docker/runtime-runc/moby/<64 hex>: the
# daemon's control socket there has a path over 107 bytes, bound and served
# all the same; `docker rm -f` removes it with the container.
@test "rootless docker: a sandbox's control socket lives in the long state dir, and goes with the container" {
    local cid dir
    write_policy '{"network": {"allowLocalOutboundPorts": [1]}, "sandbox": {"bestEffort": true}}'
    run d run -d --runtime tether-sandbox --network host "$IMAGE_NAME" "${SERVICE_CMD[@]}"
    assert_success
    cid=${lines[-1]}
    [[ $cid =~ ^[0-9a-f]{64}$ ]] || fail "docker run -d printed no container id: $output"
    dir=$(state_dir_of "$cid") || fail "no state dir for $cid under /run/user/$E2E_UID/docker"
    [[ -S $dir/netd.sock ]] || fail "no control socket in $dir: $(ls -la "$dir")"
    ((${#dir} + 10 > 107)) || fail "the socket path is only $((${#dir} + 10)) bytes: $dir/netd.sock"
    echo "control socket path: $((${#dir} + 10)) bytes" >&3
    run d exec "$cid" sh -c 'echo | nc 127.0.0.1 1 2>&1; echo exec-done'
    assert_line exec-done
    run d rm -f "$cid"
    assert_success
    [[ ! -e $dir ]] || fail "$dir outlived the container"
}
