#!/usr/bin/env bash
# make-oci-archive.sh ROOTFS_TAR OUT_TAR NAME
#
# Wraps a rootfs tar into a one-layer OCI image archive (image-layout 1.0:
# oci-layout, index.json, blobs/sha256/...) that `ctr image import` reads,
# named NAME through the io.containerd.image.name annotation. Built by hand
# with jq and sha256sum: the tests never pull from a registry.
#
# OCI_CMD (a JSON array, default ["sh"]) is the image's Cmd: what the CRI
# runs when a container gives no command (the pod sandbox's pause image).
set -euo pipefail

[[ $# -eq 3 ]] || { echo "usage: $0 ROOTFS_TAR OUT_TAR NAME" >&2; exit 2; }
rootfs_tar=$1 out=$2 name=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/blobs/sha256"

# add_blob FILE: move FILE into blobs/, print "<digest> <size>".
add_blob() {
    local digest size
    digest=$(sha256sum "$1" | cut -d' ' -f1)
    size=$(stat -c %s "$1")
    mv "$1" "$work/blobs/sha256/$digest"
    echo "sha256:$digest $size"
}

cp "$rootfs_tar" "$work/layer.tar"
read -r layer layer_size < <(add_blob "$work/layer.tar")

jq -cn --arg layer "$layer" --argjson cmd "${OCI_CMD:-[\"sh\"]}" '{
    architecture: "amd64", os: "linux",
    config: {Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: $cmd},
    rootfs: {type: "layers", diff_ids: [$layer]}
}' >"$work/config.json"
read -r config config_size < <(add_blob "$work/config.json")

jq -cn --arg config "$config" --argjson config_size "$config_size" \
       --arg layer "$layer" --argjson layer_size "$layer_size" '{
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $config, size: $config_size},
    layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $layer, size: $layer_size}]
}' >"$work/manifest.json"
read -r manifest manifest_size < <(add_blob "$work/manifest.json")

jq -cn --arg manifest "$manifest" --argjson manifest_size "$manifest_size" --arg name "$name" '{
    schemaVersion: 2,
    manifests: [{
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest: $manifest, size: $manifest_size,
        platform: {architecture: "amd64", os: "linux"},
        annotations: {"io.containerd.image.name": $name,
                      "org.opencontainers.image.ref.name": ($name | sub(".*:"; ""))}
    }]
}' >"$work/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$work/oci-layout"

tar -C "$work" -cf "$out" oci-layout index.json blobs
