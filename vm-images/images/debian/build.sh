#!/usr/bin/env bash
# The `debian` image (tags latest, 12, bookworm): Debian bookworm minbase for i386, plus
# procps so `top` and `ps` work in it, as the tutorial uses them. Its layer is the base
# the python, nginx and redis images build on.
# Output: $OUT/layer.tar, $OUT/image.json, $OUT/packages.tsv.
set -euo pipefail
source "$(dirname "$0")/../../lib.sh"
source "$(dirname "$0")/../../apt/offline-sources.sh"
OUT="$1"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

mmdebstrap_image "$work/tree" procps
offline_apt_sources "$work/tree"
mv "$work/tree/.berth-packages.tsv" "$OUT/packages.tsv"
tar --numeric-owner -C "$work/tree" -cf "$OUT/layer.tar" .
printf '%s\n' "mmdebstrap --variant=minbase --include=procps bookworm (i386, Debian packages)" > "$OUT/layer.tar.history"

base_files=$(awk '$1=="base-files" {print $2}' "$OUT/packages.tsv")
cat > "$OUT/image.json" <<JSON
{
  "name": "debian",
  "tags": ["latest", "12", "bookworm"],
  "layers": ["layer.tar"],
  "availability": "preloaded",
  "source": "Debian bookworm (12) minbase for i386 with procps, from Debian packages (base-files $base_files, $(wc -l < "$OUT/packages.tsv") packages)",
  "config": {
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    "Cmd": ["bash"]
  },
  "labels": {
    "org.opencontainers.image.title": "debian",
    "org.opencontainers.image.version": "12",
    "org.opencontainers.image.description": "Debian 12 (bookworm) minbase with procps, linux/386, built by Berth from Debian packages with mmdebstrap",
    "org.opencontainers.image.base.name": "debian:bookworm",
    "org.opencontainers.image.vendor": "Berth (built from Debian packages)",
    "sh.berth.image.built-from": "mmdebstrap --variant=minbase --include=procps bookworm (base-files $base_files)"
  }
}
JSON
log "debian image layer: $(du -h "$OUT/layer.tar" | cut -f1)"
