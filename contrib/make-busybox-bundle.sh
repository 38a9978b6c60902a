#!/usr/bin/env bash
# make-busybox-bundle.sh DIR [ARGS...]
#
# Builds an OCI bundle in DIR: DIR/rootfs holds Debian's statically linked
# busybox (package busybox-static) with one symlink per applet, and
# DIR/config.json is the runtime's default spec with terminal=false and the
# process args set to ARGS (default: sh).
#
# Environment:
#   BUSYBOX       path of a static busybox            (default /bin/busybox)
#   SPEC_RUNTIME  runtime whose `spec` makes config.json (default: tether if
#                 built, else runc). Any runc-compatible `spec` works.
#   ROOTFS_ONLY=1 only build DIR/rootfs (used by the test cache).
set -euo pipefail

die() { echo "make-busybox-bundle: $*" >&2; exit 1; }

[[ $# -ge 1 ]] || die "usage: $0 DIR [ARGS...]"
bundle=$1
shift
busybox=${BUSYBOX:-/bin/busybox}

[[ -x $busybox ]] || die "$busybox not found: apt-get install busybox-static"
# A dynamically linked busybox would need the host's libc inside the rootfs.
if command -v file >/dev/null && ! file -L "$busybox" | grep -q 'statically linked'; then
    die "$busybox is not statically linked: install busybox-static"
fi

rootfs=$bundle/rootfs
mkdir -p "$rootfs"
for d in bin sbin usr/bin usr/sbin etc dev proc sys tmp root run var/tmp home; do
    mkdir -p "$rootfs/$d"
done
chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
chmod 0700 "$rootfs/root"

cp -f "$busybox" "$rootfs/bin/busybox"
chmod 0755 "$rootfs/bin/busybox"
# One symlink per applet, at the path busybox itself reports (bin/, sbin/,
# usr/bin/ ...), so PATH lookup works like in a real distribution. One perl
# process (perl-base is Essential on Debian) instead of ~270 `ln` forks: the
# test suite builds this while the machine is busy compiling.
"$busybox" --list-full | perl -e '
    use File::Path qw(make_path);
    my $root = shift;
    while (my $applet = <STDIN>) {
        chomp $applet;
        next if $applet eq "" || $applet eq "bin/busybox";
        (my $dir = "$root/$applet") =~ s{/[^/]+$}{};
        make_path($dir);
        unlink "$root/$applet";
        symlink("/bin/busybox", "$root/$applet") or die "symlink $root/$applet: $!\n";
    }' "$rootfs"

cat >"$rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$rootfs/etc/group" <<'GROUP'
root:x:0:
nobody:x:65534:
GROUP
echo "tether-bundle" >"$rootfs/etc/hostname"

[[ ${ROOTFS_ONLY:-0} == 1 ]] && exit 0

# config.json: the runtime's own defaults, then a few jq edits.
spec_runtime=${SPEC_RUNTIME:-}
if [[ -z $spec_runtime ]]; then
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    if [[ -x $here/../build/tether ]]; then
        spec_runtime=$here/../build/tether
    else
        spec_runtime=runc
    fi
fi
rm -f "$bundle/config.json"
(cd "$bundle" && "$spec_runtime" spec) || die "'$spec_runtime spec' failed in $bundle"

if [[ $# -eq 0 ]]; then
    set -- sh
fi
# One --arg per argument keeps each whole (newlines, empty strings, leading
# dashes) without any quoting games.
args_json='[]'
for arg in "$@"; do
    args_json=$(jq -cn --argjson acc "$args_json" --arg a "$arg" '$acc + [$a]')
done
tmp=$(mktemp "$bundle/config.json.XXXXXX")
jq --argjson args "$args_json" \
   '.process.terminal = false | .process.args = $args | .root.path = "rootfs"' \
   "$bundle/config.json" >"$tmp"
mv "$tmp" "$bundle/config.json"
