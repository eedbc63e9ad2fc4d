#!/usr/bin/env bash
# The `python` image (tags 3.11, 3, latest): Debian's Python 3.11 and pip on the debian
# base, with a wheelhouse made from Debian's python3-* packages so `pip install flask`,
# `pip install redis` and `pip install requests` work offline through pip's real resolver.
# Debian marks its Python "externally managed"; a container is exactly where installing
# with pip is right, so the marker is removed as in the upstream python images.
# Input: $DEBIAN_IMAGE = the debian image's folder.  Output: $OUT/layer.tar, $OUT/image.json.
set -euo pipefail
source "$(dirname "$0")/../../lib.sh"
source "$(dirname "$0")/../../apt/offline-sources.sh"
OUT="$1"
DEBIAN_IMAGE="${DEBIAN_IMAGE:?set by vm-images/build.sh to the debian image build folder}"
here="$(cd "$(dirname "$0")" && pwd)"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
WHEELHOUSE=/usr/share/berth/wheelhouse
ROOTS=(flask redis requests)

# 1. Wheels: install the libraries with apt in a throwaway tree and turn each installed
#    distribution (and what it requires) into a wheel.
mmdebstrap_image "$work/wheels-tree" python3,python3-pip,python3-flask,python3-redis,python3-requests
cp "$here/make-wheels.py" "$work/wheels-tree/tmp/make-wheels.py"
chroot "$work/wheels-tree" python3 /tmp/make-wheels.py /tmp/wheelhouse "${ROOTS[@]}" >&2
mkdir -p "$work/wheelhouse" && cp "$work/wheels-tree/tmp/wheelhouse/"*.whl "$work/wheelhouse/"

# 2. The image's tree: python3 and pip, the wheelhouse, and pip pointed at it. Laid out as
#    the official python:3.11 image is, so Dockerfiles and scripts written for it work:
#    python, python3, python3.11, pip, pip3, pip3.11, pydoc and pydoc3 in /usr/local/bin
#    (links to Debian's /usr/bin ones; idle and python3-config are left out: they need Tk and
#    the C headers); dbm.gnu from python3-gdbm (the only module of the official image's import
#    test Debian splits out); setuptools and wheel installed, as the official 3.11 has them.
mmdebstrap_image "$work/tree" procps,python3,python3-pip,python3-setuptools,python3-wheel,python3-gdbm,python-is-python3,ca-certificates \
  --customize-hook='rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED' \
  --customize-hook='cd "$1/usr/local/bin" && ln -s /usr/bin/python3.11 python3.11 && ln -s python3.11 python3 && ln -s python3 python && ln -s /usr/bin/pip3 pip3 && ln -s pip3 pip3.11 && ln -s pip3 pip && ln -s /usr/bin/pydoc3.11 pydoc3 && ln -s pydoc3 pydoc' \
  --customize-hook='mkdir -p "$1'"$WHEELHOUSE"'" && cp '"$work"'/wheelhouse/*.whl "$1'"$WHEELHOUSE"'/"' \
  --customize-hook='printf "[global]\nno-index = true\nfind-links = '"$WHEELHOUSE"'\ndisable-pip-version-check = true\nroot-user-action = ignore\n" > "$1/etc/pip.conf"'
offline_apt_sources "$work/tree"
mv "$work/tree/.berth-packages.tsv" "$OUT/packages.tsv"
derived_image_layer "$OUT" "$DEBIAN_IMAGE/layer.tar" "$work/tree" \
  "apt-get install python3 python3-pip python3-setuptools python3-wheel python3-gdbm python-is-python3 ca-certificates; python links in /usr/local/bin; wheelhouse of Debian's python3-* packages in $WHEELHOUSE"

python_version=$(awk '$1=="python3" {print $2}' "$OUT/packages.tsv")
python_upstream=${python_version%%-*}  # 3.11.2-1+b1 → 3.11.2: the official image's PYTHON_VERSION
pip_version=$(awk '$1=="python3-pip" {print $2}' "$OUT/packages.tsv")
wheels=$(cd "$work/wheelhouse" && ls | sed 's/-py3-none-any.whl\|-cp311.*//' | paste -sd' ' -)
cat > "$OUT/image.json" <<JSON
{
  "name": "python",
  "tags": ["3.11", "3", "latest"],
  "layers": ["$DEBIAN_IMAGE/layer.tar", "layer.tar"],
  "availability": "preloaded",
  "source": "Debian bookworm's python3 $python_version and pip $pip_version on the debian image; offline wheels: $wheels",
  "config": {
    "Env": ["PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "PYTHON_VERSION=$python_upstream", "PIP_NO_INDEX=1", "PIP_FIND_LINKS=$WHEELHOUSE"],
    "Cmd": ["python3"]
  },
  "labels": {
    "org.opencontainers.image.title": "python",
    "org.opencontainers.image.version": "3.11",
    "org.opencontainers.image.description": "Python 3.11 with pip from Debian bookworm, linux/386, built by Berth; pip installs from an offline wheelhouse of Debian's python3 packages",
    "org.opencontainers.image.base.name": "debian:bookworm",
    "org.opencontainers.image.vendor": "Berth (built from Debian packages)",
    "sh.berth.image.built-from": "python3 $python_version, python3-pip $pip_version; wheels: $wheels"
  }
}
JSON
log "python image: layer $(du -h "$OUT/layer.tar" | cut -f1), wheels: $wheels"
