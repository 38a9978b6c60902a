#!/usr/bin/env bash
# setup.sh — install the Debian 12 packages needed to build and test tether.
#
# Idempotent and quiet: packages already installed are not downloaded again.
# Needs root (or sudo). Later features add their own packages through
#   TETHER_EXTRA_PACKAGES="podman containerd docker.io" contrib/setup.sh
# or flags:  contrib/setup.sh --with podman --with containerd
set -euo pipefail

packages=(
    # build
    build-essential cmake pkg-config
    nlohmann-json3-dev libseccomp-dev libcap-dev libcli11-dev libfmt-dev libidn2-dev
    # unit tests, benchmarks, sanitizers, fuzzing
    libgtest-dev libgmock-dev libbenchmark-dev clang-14 libclang-rt-14-dev llvm-14
    # integration tests: the bundle, bats, reference runtimes to compare with
    busybox-static bats bats-support bats-assert jq runc crun
    # bats --jobs: tests/run-all.sh runs the integration files 2 at a time
    parallel
    # tools used by tests, benchmarks and the demo
    hyperfine curl openssl iproute2 uidmap time socat python3 file procps util-linux
    # cgroups.bats: how the init joins its cgroup is seen in its system calls
    strace
    # kernel enforcement tests: count the BPF programs and maps left behind
    bpftool
    # end-to-end tests (tests/e2e): the real clients driving tether
    podman conmon golang-github-containers-common slirp4netns fuse-overlayfs containerd docker.io
    # rootless Docker (tests/e2e/docker-rootless.bats): docker.io's dockerd-rootless.sh
    # runs dockerd under rootlesskit; acl gives the test user /dev/net/tun for slirp4netns
    rootlesskit acl
    # the systemd cgroup driver: sd-bus headers (libsystemd.so.0 is dlopen'd),
    # and the private systemd the tests boot (tests/e2e/systemd-host.sh)
    libsystemd-dev mmdebstrap systemd-container
    # Kubernetes' path (tests/e2e/cri.bats): the project's own CRI client is
    # Python over gRPC (Debian has no crictl)
    python3-grpcio python3-protobuf
    # packaging: man pages from the docs, the .deb's Depends (dpkg-shlibdeps),
    # and reading the installed pages (tests/e2e/package.bats)
    go-md2man dpkg-dev man-db
)

extra=()
read -r -a extra <<<"${TETHER_EXTRA_PACKAGES:-}"
while [[ $# -gt 0 ]]; do
    case $1 in
        --with) [[ $# -ge 2 ]] || { echo "setup.sh: --with needs a package" >&2; exit 2; }
                extra+=("$2"); shift 2 ;;
        --with=*) extra+=("${1#--with=}"); shift ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "setup.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
packages+=("${extra[@]}")

sudo=()
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "setup.sh: run as root" >&2; exit 1; }
    sudo=(sudo)
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

export DEBIAN_FRONTEND=noninteractive
# Always refresh the package lists first (a fresh machine has stale ones);
# when nothing is missing a failed refresh (offline) is not fatal.
if ! "${sudo[@]}" apt-get update -qq >/dev/null; then
    [[ ${#missing[@]} -eq 0 ]] || { echo "setup.sh: apt-get update failed" >&2; exit 1; }
    echo "setup.sh: apt-get update failed; continuing, nothing is missing" >&2
fi
if [[ ${#missing[@]} -eq 0 ]]; then
    echo "setup.sh: all ${#packages[@]} packages already installed"
    exit 0
fi
echo "setup.sh: installing ${#missing[@]} packages: ${missing[*]}"
# Packages must not start their services (dockerd would make a docker0 bridge
# and iptables rules; the tests start private daemons themselves): a
# policy-rc.d that says "no" for the duration of the install.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 755 "$policy"
    own_policy=1
fi
rc=0
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}" >/dev/null || rc=$?
[[ $own_policy -eq 1 ]] && "${sudo[@]}" rm -f "$policy"
[[ $rc -eq 0 ]] || { echo "setup.sh: apt-get install failed ($rc)" >&2; exit "$rc"; }
echo "setup.sh: done"
