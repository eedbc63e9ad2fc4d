#!/usr/bin/env bash
# The `nginx` image: Debian's nginx on the debian base, serving its welcome page on port 80
# in the foreground, its logs going to the container's output (docker logs). Like the
# official image it serves /usr/share/nginx/html, so `-v ./site:/usr/share/nginx/html` works
# as tutorials say (Debian's own default is /var/www/html).
# Input: $DEBIAN_IMAGE = the debian image's folder.  Output: $OUT/layer.tar, $OUT/image.json.
set -euo pipefail
source "$(dirname "$0")/../../lib.sh"
source "$(dirname "$0")/../../apt/offline-sources.sh"
OUT="$1"
DEBIAN_IMAGE="${DEBIAN_IMAGE:?set by vm-images/build.sh to the debian image build folder}"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

mmdebstrap_image "$work/tree" procps,nginx \
  --customize-hook='ln -sf /dev/stdout "$1/var/log/nginx/access.log" && ln -sf /dev/stderr "$1/var/log/nginx/error.log"' \
  --customize-hook='sed -i "s#^\(\s*root\) /var/www/html;#\1 /usr/share/nginx/html;#" "$1/etc/nginx/sites-available/default" && grep -q "root /usr/share/nginx/html;" "$1/etc/nginx/sites-available/default"'
offline_apt_sources "$work/tree"
mv "$work/tree/.berth-packages.tsv" "$OUT/packages.tsv"
derived_image_layer "$OUT" "$DEBIAN_IMAGE/layer.tar" "$work/tree" "apt-get install nginx; logs to stdout/stderr; root /usr/share/nginx/html"
version=$(awk '$1=="nginx" {print $2}' "$OUT/packages.tsv")
cat > "$OUT/image.json" <<JSON
{
  "name": "nginx",
  "tags": ["latest", "1.22"],
  "layers": ["$DEBIAN_IMAGE/layer.tar", "layer.tar"],
  "availability": "registry",
  "layersInStore": true,
  "source": "Debian bookworm's nginx $version on the debian image",
  "config": {
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    "Cmd": ["nginx", "-g", "daemon off;"],
    "ExposedPorts": { "80/tcp": {} },
    "StopSignal": "SIGQUIT"
  },
  "labels": {
    "org.opencontainers.image.title": "nginx",
    "org.opencontainers.image.version": "$version",
    "org.opencontainers.image.description": "nginx from Debian bookworm serving its default page on port 80, linux/386, built by Berth",
    "org.opencontainers.image.base.name": "debian:bookworm",
    "org.opencontainers.image.vendor": "Berth (built from Debian packages)",
    "sh.berth.image.built-from": "nginx $version (Debian bookworm)"
  }
}
JSON
log "nginx image: layer $(du -h "$OUT/layer.tar" | cut -f1) (nginx $version)"
