#!/usr/bin/env bats
# The .deb an operator installs (contrib/packaging/packaging.cmake): built with CPack from
# the build tree, installed with `dpkg --root` into a scratch root (the
# machine's own dpkg database and /usr are never touched), and the installed
# copy run: version, features, a busybox container, and a sandbox whose
# tether-netd is found under ../libexec/tether. Then `dpkg -r` removes it all.

load helpers

BUILD_DIR=${BUILD_DIR:-$(dirname "$RUNTIME")}

setup_file() {
    require_client dpkg dpkg-deb cpack
    require_runtime
    [[ -f $BUILD_DIR/CPackConfig.cmake ]] || fail "no CPack configuration in $BUILD_DIR (configure the build first)"
    PKG_DIR=$(mktemp -d /tmp/tether-e2e-pkg.XXXXXX)
    echo "$PKG_DIR" >"$BATS_FILE_TMPDIR/pkg-dir"
    # Not DPKG_ROOT: dpkg-shlibdeps (under cpack) would look for the
    # libraries in that root, and the package would depend on nothing.
    export PKG_DIR INSTALL_ROOT=$PKG_DIR/root STATE=$PKG_DIR/state
    # The man pages are part of `all`; build them in case only the binaries were.
    bounded cmake --build "$BUILD_DIR" --target man >/dev/null
    bounded cpack --config "$BUILD_DIR/CPackConfig.cmake" -B "$PKG_DIR/out" >"$PKG_DIR/cpack.log" 2>&1 ||
        fail "cpack failed: $(tail -n 20 "$PKG_DIR/cpack.log")"
    DEB=$(echo "$PKG_DIR"/out/tether_*.deb)
    [[ -f $DEB ]] || fail "no tether_*.deb in $PKG_DIR/out: $(ls "$PKG_DIR/out")"
    export DEB
    # An empty dpkg database: the root has nothing but what the .deb brings.
    mkdir -p "$INSTALL_ROOT/var/lib/dpkg/info" "$INSTALL_ROOT/var/lib/dpkg/updates" "$INSTALL_ROOT/var/lib/dpkg/triggers"
    : >"$INSTALL_ROOT/var/lib/dpkg/status"
    : >"$INSTALL_ROOT/var/lib/dpkg/available"
    # --force-depends: the scratch root's database lists none of the
    # libraries (the host's are used to run the binaries); the Depends line
    # itself is checked below. --force-script-chrootless: dpkg would look for
    # ldconfig inside the empty root.
    bounded dpkg --root="$INSTALL_ROOT" --force-depends --force-script-chrootless -i "$DEB" >"$PKG_DIR/dpkg.log" 2>&1 ||
        fail "dpkg -i failed: $(cat "$PKG_DIR/dpkg.log")"
    ensure_image
}

teardown_file() {
    local dir id
    dir=$(cat "$BATS_FILE_TMPDIR/pkg-dir" 2>/dev/null) || return 0
    [[ -d $dir ]] || return 0
    if [[ -x $dir/root/usr/bin/tether ]]; then
        for id in $("$dir/root/usr/bin/tether" --root "$dir/state" list -q 2>/dev/null); do
            "$dir/root/usr/bin/tether" --root "$dir/state" delete --force "$id" >/dev/null 2>&1 || true
        done
    fi
    unmount_under "$dir"
    rm -rf "$dir"
}

teardown() {
    stop_loopback_listeners
    local id
    for id in $(installed list -q 2>/dev/null); do
        installed delete --force "$id" >/dev/null 2>&1 || true
        rm -f /var/log/tether/"$id".jsonl /var/log/tether/"$id".jsonl.*
    done
}

installed() {
    "$INSTALL_ROOT/usr/bin/tether" --root "$STATE" "$@"
}

# bundle NAME ARGS...: a busybox bundle whose process runs ARGS.
bundle() {
    local dir=$BATS_TEST_TMPDIR/$1
    shift
    mkdir -p "$dir/rootfs"
    tar -C "$dir/rootfs" -xf "$IMAGE_CACHE/rootfs.tar"
    "$INSTALL_ROOT/usr/bin/tether" spec -b "$dir"
    jq --argjson args "$(json_array "$@")" '.process.terminal = false | .process.args = $args' \
        <"$dir/config.json" >"$dir/config.json.new"
    mv "$dir/config.json.new" "$dir/config.json"
    echo "$dir"
}

@test "package: the .deb holds the binaries, the man pages, the completion and the snippets for /usr" {
    run dpkg-deb -c "$DEB"
    assert_success
    local f
    for f in ./usr/bin/tether ./usr/libexec/tether/tether-netd \
        ./usr/share/man/man8/tether.8.gz ./usr/share/man/man8/tether-netd.8.gz \
        ./usr/share/man/man7/tether-annotations.7.gz ./usr/share/bash-completion/completions/tether \
        ./usr/share/doc/tether/podman/tether.conf ./usr/share/doc/tether/containerd/config.toml \
        ./usr/share/doc/tether/docker/daemon.json ./usr/share/doc/tether/kubernetes/runtimeclass.yaml \
        ./usr/share/doc/tether/hooks.d/tether-netd.json; do
        assert_line --regexp " $f\$"
    done
    # Nothing that a client would pick up by itself.
    refute_line --partial ./etc/
    refute_line --partial ./usr/share/containers/
    # The snippets name the installed paths.
    grep -qF 'BinaryName = "/usr/bin/tether"' "$INSTALL_ROOT/usr/share/doc/tether/containerd/config.toml"
    assert_equal "$(jq -r '[.runtimes[].path] | unique[]' "$INSTALL_ROOT/usr/share/doc/tether/docker/daemon.json")" /usr/bin/tether
    assert_equal "$(jq -r .hook.path "$INSTALL_ROOT/usr/share/doc/tether/hooks.d/tether-netd.json")" \
        /usr/libexec/tether/tether-netd
}

@test "package: Depends names the package of every shared library the binaries link" {
    local depends bin lib pkg
    depends=$(dpkg-deb -f "$DEB" Depends 2>&1)
    [[ -n $depends ]] || fail "no Depends in $DEB"
    for bin in "$INSTALL_ROOT/usr/bin/tether" "$INSTALL_ROOT/usr/libexec/tether/tether-netd"; do
        # The libraries it names itself (NEEDED), not their own dependencies,
        # resolved to paths as the dynamic loader finds them.
        for lib in $(readelf -d "$bin" | awk -F'[][]' '/\(NEEDED\)/ {print $2}' | grep -v '^ld-linux' |
            while read -r name; do ldd "$bin" | awk -v n="$name" '$1 == n {print $3}'; done); do
            # usrmerge: dpkg knows the path under /lib, ldd may print either.
            pkg=$( (dpkg -S "$lib" || dpkg -S "$(readlink -f "$lib")") 2>/dev/null | head -n1 | cut -d: -f1)
            [[ -n $pkg ]] || fail "no package owns $lib"
            [[ ", $depends" == *", $pkg "* || ", $depends," == *", $pkg,"* ]] ||
                fail "$bin links $lib ($pkg), not in Depends: $depends"
        done
    done
}

@test "package: the man pages render" {
    run bash -c "zcat '$INSTALL_ROOT/usr/share/man/man8/tether.8.gz' | head -n 5"
    assert_line --regexp '^\.TH "?TETHER"? "?8'
    run env MANWIDTH=80 man -l "$INSTALL_ROOT/usr/share/man/man8/tether.8.gz"
    assert_success
    assert_output --partial "tether - an OCI container runtime for sandboxing untrusted code"
    assert_output --partial "--admin-config"
    run env MANWIDTH=80 man -l "$INSTALL_ROOT/usr/share/man/man7/tether-annotations.7.gz"
    assert_success
    assert_output --partial "tether-annotations - the run.tether.* sandbox annotations"
    assert_output --partial "run.tether.network.allowLocalOutboundPorts"
    run env MANWIDTH=80 man -l "$INSTALL_ROOT/usr/share/man/man8/tether-netd.8.gz"
    assert_success
    assert_output --partial "tether-netd - tether's per-container network daemon"
}

@test "package: the installed tether prints its version and features" {
    run "$INSTALL_ROOT/usr/bin/tether" --version
    assert_success
    assert_output --partial "$(awk '/^project\(tether VERSION/ {print $3}' "$REPO_ROOT/CMakeLists.txt")"
    run "$INSTALL_ROOT/usr/bin/tether" features
    assert_success
    jq -e '.ociVersionMin and (.linux.namespaces | index("network"))' <<<"$output" >/dev/null
}

@test "package: the installed tether runs a busybox container" {
    local b
    b=$(bundle plain sh -c 'echo installed says hi; exit 3')
    run installed run -b "$b" "pkg-$RANDOM"
    assert_equal "$status" 3
    assert_output "installed says hi"
    assert_equal "$(installed list -q)" ""
}

@test "package: the installed tether runs a sandbox with the installed tether-netd (../libexec/tether)" {
    local listed unlisted b id=pkg-sandbox-$RANDOM netd
    listed=$(start_loopback_listener)
    unlisted=$(start_loopback_listener)
    b=$(bundle sandbox "${SERVICE_CMD[@]}")
    jq --arg p "$listed" '.annotations["run.tether.network.allowLocalOutboundPorts"] = $p' \
        <"$b/config.json" >"$b/config.json.new" && mv "$b/config.json.new" "$b/config.json"
    # -d: the container keeps its stdout, so not through `run` (a pipe).
    env -u TETHER_NETD "$INSTALL_ROOT/usr/bin/tether" --root "$STATE" run -d -b "$b" "$id" \
        </dev/null >"$BATS_TEST_TMPDIR/run.out" 2>&1 || fail "run -d failed: $(cat "$BATS_TEST_TMPDIR/run.out")"
    netd=$(cat "$STATE/$id/netd.pid")
    assert_equal "$(readlink "/proc/$netd/exe")" "$INSTALL_ROOT/usr/libexec/tether/tether-netd"
    run installed exec "$id" sh -c "$(sandbox_probe_cmd "$listed" "$unlisted")"
    assert_line reached-listed
    assert_line --partial "Connection refused"
    run installed delete --force "$id"
    assert_success
    retry_until 10 eval "! pid_alive $netd" || fail "tether-netd $netd outlived delete"
    rm -f /var/log/tether/"$id".jsonl /var/log/tether/"$id".jsonl.*
}

@test "package: bash completion completes verbs, flags and container ids" {
    local b id=pkg-complete-$RANDOM
    b=$(bundle complete "${SERVICE_CMD[@]}")
    installed run -d -b "$b" "$id" </dev/null >/dev/null 2>&1
    # The completion function, called as bash-completion calls it.
    run bash -c '
        source "$1"
        complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _tether; echo "${COMPREPLY[*]}"; }
        complete_words "$2" de
        complete_words "$2" --root "$3" kill --a
        complete_words "$2" --root "$3" delete ""
        complete_words "$2" list --format ""
    ' _ "$INSTALL_ROOT/usr/share/bash-completion/completions/tether" "$INSTALL_ROOT/usr/bin/tether" "$STATE"
    installed delete --force "$id"
    assert_success
    assert_equal "${lines[0]}" delete
    assert_equal "${lines[1]}" --all
    assert_equal "${lines[2]}" "$id"
    assert_equal "${lines[3]}" "table json"
}

@test "package: dpkg -r removes every file it installed" {
    run dpkg --root="$INSTALL_ROOT" --force-script-chrootless -r tether
    assert_success
    run find "$INSTALL_ROOT" -type f -not -path "$INSTALL_ROOT/var/lib/dpkg/*"
    assert_output ""
    run dpkg --root="$INSTALL_ROOT" -s tether
    assert_failure
}
