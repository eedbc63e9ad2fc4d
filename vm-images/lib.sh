# Shared helpers for the vm-images build steps. Sourced, never run.
# Every step is cached under $BERTH_CACHE/<step>/<hash>/, keyed by the hash of its inputs,
# so an unchanged input skips the work.

BERTH_CACHE="${BERTH_CACHE:-$HOME/.cache/berth/vm}"
VM_IMAGES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { printf '\033[1m[vm-images]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[vm-images] error:\033[0m %s\n' "$*" >&2; exit 1; }

# hash_inputs FILE_OR_DIR... : a stable sha256 over file names and contents (plus any
# extra strings passed through $HASH_EXTRA), so renaming or editing any input changes it.
hash_inputs() {
  {
    printf '%s\n' "${HASH_EXTRA:-}"
    local p
    for p in "$@"; do
      if [ -d "$p" ]; then
        (cd "$p" && find . -type f -o -type l | LC_ALL=C sort | while read -r f; do
          printf '%s\n' "$f"; if [ -L "$f" ]; then readlink "$f"; else sha256sum < "$f"; fi
        done)
      else
        printf '%s\n' "$(basename "$p")"; sha256sum < "$p"
      fi
    done
  } | sha256sum | cut -c1-16
}

# step_dir NAME HASH : prints the cache folder for that step; the step is done when
# it holds a file named .done.
step_dir() { printf '%s/%s/%s' "$BERTH_CACHE" "$1" "$2"; }
step_done() { [ -f "$1/.done" ]; }
mark_done() { touch "$1/.done"; }

# apt_source_uris : the Debian archive and security URIs this host's apt uses, one per line
# as "<kind> <uri>", read from deb822 .sources and one-line .list files. Never hard-coded:
# build machines reach Debian through whatever mirror their own apt is set to.
apt_source_uris() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'BEGIN{RS=""; FS="\n"}
      { uris=""; suites="";
        for (i=1;i<=NF;i++) { if ($i ~ /^URIs:/) { sub(/^URIs:[ \t]*/,"",$i); uris=$i }
                              if ($i ~ /^Suites:/) { sub(/^Suites:[ \t]*/,"",$i); suites=$i }
                              if ($i ~ /^Enabled:[ \t]*no/) { uris="" } }
        if (uris != "") { n=split(uris,u," "); for (j=1;j<=n;j++) {
          kind = (suites ~ /-security/) ? "security" : "main"; print kind, u[j] } } }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1=="deb" { uri=""; suite=""; for (i=2;i<=NF;i++) { if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; continue }
      if (uri=="") uri=$i; else if (suite=="") { suite=$i; break } }
      if (uri ~ /debian/) print ((suite ~ /-security/) ? "security" : "main"), uri }' "$f"
  done
}

debian_mirror() {
  local uri
  uri=$(apt_source_uris | awk '$1=="main" && $2 ~ /debian\/?$/ {print $2; exit}')
  [ -n "$uri" ] || uri=$(apt_source_uris | awk '$1=="main" {print $2; exit}')
  [ -n "$uri" ] || die "no Debian mirror found in this host's apt sources (/etc/apt/sources.list*)"
  printf '%s' "${uri%/}"
}

debian_security_mirror() {
  apt_source_uris | awk '$1=="security" {print $2; exit}' | sed 's:/*$::'
}

# first_existing PATH... : prints the first path that exists (merged-/usr trees put
# /lib and /bin under /usr).
first_existing() {
  local p
  for p in "$@"; do [ -e "$p" ] && { printf '%s' "$p"; return 0; }; done
  return 1
}

# mmdebstrap_image TARGET PACKAGES [EXTRA_MMDEBSTRAP_ARGS...] : a container image tree
# (Debian bookworm i386 minbase plus PACKAGES, comma-separated), slimmed the same way for
# every image so that derived images differ from the debian base only by what they add.
mmdebstrap_image() {
  local target=$1 packages=$2; shift 2
  local mirror; mirror=$(debian_mirror)
  local slim=(path-exclude=/usr/share/man/* path-exclude=/usr/share/locale/* path-include=/usr/share/locale/locale.alias
              path-exclude=/usr/share/doc/* path-include=/usr/share/doc/*/copyright)
  local dpkgopts=() s
  for s in "${slim[@]}"; do dpkgopts+=("--dpkgopt=$s"); done
  mmdebstrap --arch=i386 --variant=minbase --include="$packages" \
    --aptopt='APT::Install-Recommends "false"' "${dpkgopts[@]}" \
    --skip=output/dev --skip=output/mknod \
    --customize-hook='mkdir -p "$1/etc/dpkg/dpkg.cfg.d" && printf "%s\n" '"${slim[*]}"' | tr " " "\n" > "$1/etc/dpkg/dpkg.cfg.d/berth-slim"' \
    --customize-hook='if chroot "$1" dpkg -s usrmerge >/dev/null 2>&1; then chroot "$1" apt-get -y -qq purge --autoremove usrmerge; fi' \
    "$@" \
    --customize-hook='chroot "$1" dpkg-query -W -f="\${Package}\t\${Version}\n" > "$1/.berth-packages.tsv"' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/log/*.log "$1"/var/log/apt/* "$1"/var/cache/ldconfig/aux-cache "$1"/var/cache/debconf/*-old "$1"/var/lib/dpkg/*-old' \
    --customize-hook='echo "deb '"$mirror"' bookworm main" > "$1/etc/apt/sources.list"' \
    bookworm "$target" "deb $mirror bookworm main"
}

# derived_image_layer OUT BASE_LAYER_TAR FULL_TREE HISTORY : the layer FULL_TREE adds on
# top of the debian base, written to OUT/layer.tar with its `docker history` line.
derived_image_layer() {
  local out=$1 base_tar=$2 full=$3 history=$4
  local base; base=$(mktemp -d)
  tar --numeric-owner -C "$base" -xf "$base_tar"
  "$VM_IMAGES_DIR/../node_modules/.bin/tsx" "$VM_IMAGES_DIR/tools/layer-diff.ts" --base "$base" --full "$full" --out "$out/layer.tar" >&2
  rm -rf "$base"
  printf '%s\n' "$history" > "$out/layer.tar.history"
}
