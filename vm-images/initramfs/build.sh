#!/usr/bin/env bash
# Kernel and initramfs, taken from the root filesystem's linux-image-686 and busybox-static.
# Input:  $1 = rootfs.tar.   Output: $OUT/vmlinuz, $OUT/initrd.img, $OUT/kernel-version
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
ROOTFS_TAR="$1"; OUT="$2"

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$OUT" "$work/root" "$work/initramfs"/{bin,dev,proc,sys,modules}
tar -C "$work/root" -xf "$ROOTFS_TAR" ./boot ./lib/modules ./usr/lib/modules ./bin/busybox ./usr/bin/busybox 2>/dev/null || true
kver=$(find "$work/root/boot" -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort | tail -1)
[ -n "$kver" ] || die "no kernel in the root filesystem"
moddir=$(first_existing "$work/root/usr/lib/modules/$kver" "$work/root/lib/modules/$kver") || die "no modules for $kver"
busybox=$(first_existing "$work/root/usr/bin/busybox" "$work/root/bin/busybox") || die "no busybox in the root filesystem"

# Resolve each wanted module's dependencies from modules.dep, deepest first, once each.
resolve() {
  local name=$1 path deps d
  path=$(awk -F: -v n="$name" '{ f=$1; sub(/.*\//,"",f); sub(/\.ko(\.[a-z]+)?$/,"",f); gsub("-","_",f); if (f==n) { print; exit } }' "$moddir/modules.dep")
  [ -n "$path" ] || die "module $name not found for kernel $kver"
  deps=${path#*:}; path=${path%%:*}
  for d in $deps; do
    d=$(basename "$d"); d=${d%%.ko*}; resolve "${d//-/_}"
  done
  grep -qxF "$path" "$work/order" 2>/dev/null || echo "$path" >> "$work/order"
}
: > "$work/order"
for m in $(grep -v '^\s*#' "$VM_IMAGES_DIR/initramfs/modules.txt"); do resolve "$m"; done
while read -r p; do
  f=$(basename "$p")
  case "$f" in
    *.ko.xz) xz -dc "$moddir/$p" > "$work/initramfs/modules/${f%.xz}"; f=${f%.xz} ;;
    *.ko.zst) zstd -qdc "$moddir/$p" > "$work/initramfs/modules/${f%.zst}"; f=${f%.zst} ;;
    *) cp "$moddir/$p" "$work/initramfs/modules/$f" ;;
  esac
  echo "$f" >> "$work/initramfs/modules.order"
done < "$work/order"

cp "$busybox" "$work/initramfs/bin/busybox"
install -m 0755 "$VM_IMAGES_DIR/initramfs/init" "$work/initramfs/init"
(cd "$work/initramfs" && find . | LC_ALL=C sort | cpio --quiet -o -H newc --reproducible) | gzip -9n > "$OUT/initrd.img"
cp "$work/root/boot/vmlinuz-$kver" "$OUT/vmlinuz"
echo "$kver" > "$OUT/kernel-version"
log "kernel $kver: $OUT/vmlinuz ($(du -h "$OUT/vmlinuz" | cut -f1)), initrd $(du -h "$OUT/initrd.img" | cut -f1) with $(wc -l < "$work/order") modules"
