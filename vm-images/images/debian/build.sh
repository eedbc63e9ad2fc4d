#!/usr/bin/env bash
# The `debian` image (tags latest, 12, bookworm): Debian bookworm minbase for i386, plus
# procps so `top` and `ps` work in it, as the tutorial uses them.
# Output: $OUT/layer.tar, $OUT/image.json (what image-archive.ts needs).
set -euo pipefail
source "$(dirname "$0")/../../lib.sh"
OUT="$1"
mkdir -p "$OUT"
mirror=$(debian_mirror)

mmdebstrap --arch=i386 --variant=minbase --include=procps \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --customize-hook='mkdir -p "$1/etc/dpkg/dpkg.cfg.d" && printf "%s\\n" "path-exclude=/usr/share/man/*" "path-exclude=/usr/share/locale/*" "path-include=/usr/share/locale/locale.alias" "path-exclude=/usr/share/doc/*" "path-include=/usr/share/doc/*/copyright" > "$1/etc/dpkg/dpkg.cfg.d/berth-slim"' \
  --skip=output/dev --skip=output/mknod \
  --customize-hook='if chroot "$1" dpkg -s usrmerge >/dev/null 2>&1; then chroot "$1" apt-get -y -qq purge --autoremove usrmerge; fi' \
  --customize-hook='chroot "$1" dpkg-query -W -f="\${Package}\t\${Version}\n" > "$1/.pkgs"' \
  --customize-hook='mv "$1/.pkgs" '"$OUT/packages.tsv" \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/log/*.log "$1"/var/cache/ldconfig/aux-cache' \
  --customize-hook='echo "deb '"$mirror"' bookworm main" > "$1/etc/apt/sources.list"' \
  bookworm "$OUT/layer.tar" "deb $mirror bookworm main"

base_files=$(awk '$1=="base-files" {print $2}' "$OUT/packages.tsv")
cat > "$OUT/image.json" <<JSON
{
  "name": "debian",
  "tags": ["latest", "12", "bookworm"],
  "layer": "layer.tar",
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
