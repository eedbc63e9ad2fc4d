#!/usr/bin/env bash
# The `busybox` image: Debian's statically linked busybox for i386 with a link for every
# applet, a passwd/group and the usual empty directories, like the familiar busybox image.
# Output: $OUT/layer.tar, $OUT/image.json.
set -euo pipefail
source "$(dirname "$0")/../../lib.sh"
OUT="$1"
mkdir -p "$OUT"
mirror=$(debian_mirror)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

# busybox-static unpacked into a throwaway i386 tree, only to take its binary and applet
# list (through apt, so it comes from the same mirror as everything else).
mmdebstrap --arch=i386 --variant=extract --include=busybox-static \
  --skip=output/dev --skip=output/mknod \
  bookworm "$work/tree" "deb $mirror bookworm main"
# busybox names its Debian package version in its banner: "BusyBox v1.35.0 (Debian 1:1.35.0-4...)".
version=$(chroot "$work/tree" /bin/busybox 2>&1 | sed -n '1s/.*(Debian \([^)]*\)).*/\1/p')

root="$work/root"
mkdir -p "$root"/{bin,etc,root,tmp,var/www,home,usr/sbin,usr/bin,sbin}
chmod 1777 "$root/tmp"; chmod 700 "$root/root"
cp "$(first_existing "$work/tree/bin/busybox" "$work/tree/usr/bin/busybox")" "$root/bin/busybox"
# Every applet busybox lists, as a link in /bin (the layout of the upstream busybox image).
for applet in $(chroot "$work/tree" busybox --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\nwww-data:x:33:33:www-data:/var/www:/bin/false\n' > "$root/etc/passwd"
printf 'root:x:0:\ndaemon:x:1:\nwww-data:x:33:\nnogroup:x:65534:\n' > "$root/etc/group"
echo "<h1>hello from busybox httpd</h1>" > "$root/var/www/index.html"
tar --numeric-owner --owner=0 --group=0 -C "$root" -cf "$OUT/layer.tar" .

cat > "$OUT/image.json" <<JSON
{
  "name": "busybox",
  "tags": ["latest"],
  "layers": ["layer.tar"],
  "availability": "preloaded",
  "source": "Debian's busybox-static $version for i386",
  "config": {
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    "Cmd": ["sh"]
  },
  "labels": {
    "org.opencontainers.image.title": "busybox",
    "org.opencontainers.image.version": "$version",
    "org.opencontainers.image.description": "BusyBox from Debian's busybox-static package, linux/386, built by Berth",
    "org.opencontainers.image.vendor": "Berth (built from Debian packages)",
    "sh.berth.image.built-from": "busybox-static $version (Debian bookworm)"
  }
}
JSON
log "busybox image layer: $(du -h "$OUT/layer.tar" | cut -f1) (busybox-static $version)"
