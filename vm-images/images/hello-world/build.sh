#!/usr/bin/env bash
# The `hello-world` image: one static i386 program (hello.c, no libc) that prints a
# greeting and exits. Built with the host's gcc in 32-bit mode; nothing else in the image.
# Output: $OUT/layer.tar, $OUT/image.json.
set -euo pipefail
source "$(dirname "$0")/../../lib.sh"
OUT="$1"
here="$(dirname "$0")"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

gcc -m32 -Os -static -nostdlib -ffreestanding -fno-pie -no-pie -fno-stack-protector \
  -Wl,--build-id=none -s -o "$work/hello" "$here/hello.c"
touch -d @0 "$work/hello"
tar --numeric-owner --owner=0 --group=0 --mtime=@0 -C "$work" -cf "$OUT/layer.tar" hello
gcc_version=$(gcc -dumpfullversion)

cat > "$OUT/image.json" <<JSON
{
  "name": "hello-world",
  "tags": ["latest"],
  "layers": ["layer.tar"],
  "availability": "registry",
  "source": "Berth's hello.c, a static i386 program built with Debian's gcc $gcc_version",
  "config": { "Cmd": ["/hello"] },
  "labels": {
    "org.opencontainers.image.title": "hello-world",
    "org.opencontainers.image.description": "Prints a greeting and exits; linux/386, built by Berth",
    "org.opencontainers.image.vendor": "Berth",
    "sh.berth.image.built-from": "vm-images/images/hello-world/hello.c with gcc $gcc_version -m32 -static -nostdlib"
  }
}
JSON
log "hello-world image: $(stat -c %s "$OUT/layer.tar") bytes"
