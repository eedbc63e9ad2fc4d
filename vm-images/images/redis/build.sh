#!/usr/bin/env bash
# The `redis` image: Debian's redis-server on the debian base, in the foreground on 6379,
# reachable from other containers (protected mode off, as in the upstream image).
# Input: $DEBIAN_IMAGE = the debian image's folder.  Output: $OUT/layer.tar, $OUT/image.json.
set -euo pipefail
source "$(dirname "$0")/../../lib.sh"
source "$(dirname "$0")/../../apt/offline-sources.sh"
OUT="$1"
DEBIAN_IMAGE="${DEBIAN_IMAGE:?set by vm-images/build.sh to the debian image build folder}"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

mmdebstrap_image "$work/tree" procps,redis-server --customize-hook='mkdir -p "$1/data"'
offline_apt_sources "$work/tree"
mv "$work/tree/.berth-packages.tsv" "$OUT/packages.tsv"
derived_image_layer "$OUT" "$DEBIAN_IMAGE/layer.tar" "$work/tree" "apt-get install redis-server"
version=$(awk '$1=="redis-server" {print $2}' "$OUT/packages.tsv")
cat > "$OUT/image.json" <<JSON
{
  "name": "redis",
  "tags": ["latest", "7", "7.0"],
  "layers": ["$DEBIAN_IMAGE/layer.tar", "layer.tar"],
  "availability": "registry",
  "layersInStore": true,
  "source": "Debian bookworm's redis-server $version on the debian image",
  "config": {
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    "Cmd": ["redis-server", "--protected-mode", "no"],
    "WorkingDir": "/data",
    "ExposedPorts": { "6379/tcp": {} }
  },
  "labels": {
    "org.opencontainers.image.title": "redis",
    "org.opencontainers.image.version": "$version",
    "org.opencontainers.image.description": "Redis from Debian bookworm in the foreground on port 6379, linux/386, built by Berth",
    "org.opencontainers.image.base.name": "debian:bookworm",
    "org.opencontainers.image.vendor": "Berth (built from Debian packages)",
    "sh.berth.image.built-from": "redis-server $version (Debian bookworm)"
  }
}
JSON
log "redis image: layer $(du -h "$OUT/layer.tar" | cut -f1) (redis $version)"
