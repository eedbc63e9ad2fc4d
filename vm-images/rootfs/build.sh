#!/usr/bin/env bash
# Root filesystem for the guest: Debian bookworm i386, minbase plus rootfs/packages.txt.
# Output: $OUT/rootfs.tar (the full tree, kernel included) and $OUT/packages.tsv
# (name, version of every package inside).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
OUT="$1"

mkdir -p "$OUT"
packages=$(grep -v '^\s*#' "$VM_IMAGES_DIR/rootfs/packages.txt" | grep -v '^\s*$' | paste -sd, -)
mirror=$(debian_mirror)
security=$(debian_security_mirror)

run_mmdebstrap() {
  mmdebstrap --arch=i386 --variant=minbase \
    --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --include="$packages" \
    --customize-hook='chroot "$1" dpkg-query -W -f="\${Package}\t\${Version}\n" > "$1/.packages.tsv"' \
    --customize-hook='mv "$1/.packages.tsv" '"$OUT/packages.tsv" \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
    bookworm "$OUT/rootfs.tar" "$@"
}

sources=("deb $mirror bookworm main" "deb $mirror bookworm-updates main")
if [ -n "$security" ] && run_mmdebstrap "${sources[@]}" "deb $security bookworm-security main"; then
  :
else
  # The security suite's i386 index sometimes fails its size check on the mirror;
  # mmdebstrap treats any index error as fatal, so build without it rather than not at all.
  log "warning: building the root filesystem without bookworm-security (its index failed)"
  run_mmdebstrap "${sources[@]}"
fi
log "rootfs: $OUT/rootfs.tar ($(du -h "$OUT/rootfs.tar" | cut -f1)), $(wc -l < "$OUT/packages.tsv") packages"
