#!/usr/bin/env bash
# npm run vm:build — builds every asset the page and the harness need into public/vm/.
# Runs as root on Debian/Ubuntu (mmdebstrap, chroot, mkfs). Each step's output is cached
# under $BERTH_CACHE keyed by the hash of its inputs; an unchanged input skips the step.
#
# Outputs (public/vm/, git-ignored):
#   manifest.json                 build id, content-hashed files, emulator options, catalog
#   bios-*.bin vgabios-*.bin      SeaBIOS from Debian's seabios
#   vmlinuz-* initrd-*.img        Debian's i386 686 kernel and a busybox initramfs
#   state-*.bin.bzp               v86 state taken after boot with dockerd answering (zstd pieces)
#   chunks/*.zst                  the root disk in 256 KiB zstd chunks, loaded lazily
#   apt-*/                        the offline Debian mirror the guest's apt reaches, file by file
#
# Real images: when Docker Hub answers, the linux/386 images pinned by digest in
# vm-images/images/docker-hub.json (ubuntu:18.04, alpine, python:…-alpine, nginx:alpine,
# redis:alpine) go into the guest's registry beside Berth's Debian-made stand-ins; without an
# answer the build goes on with the stand-ins and says so in one line.
#   --offline         never ask a registry (pins already cached are still used)
#   --pull IMAGE      also put IMAGE's linux/386 variant (by tag, not pinned) into the
#                     guest's registry; repeatable
#   --registry URL    the Registry v2 API to pull from (default: Docker Hub)
set -euo pipefail
shopt -s inherit_errexit
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/host-i386.sh"
pull_images=()
pull_registry=""
offline=false
while [ $# -gt 0 ]; do
  case "$1" in
    --pull) [ $# -ge 2 ] || die "--pull needs an image name"; pull_images+=("$2"); shift 2 ;;
    --pull=*) pull_images+=("${1#--pull=}"); shift ;;
    --registry) [ $# -ge 2 ] || die "--registry needs a URL"; pull_registry=$2; shift 2 ;;
    --registry=*) pull_registry=${1#--registry=}; shift ;;
    --offline) offline=true; shift ;;
    *) die "unknown option: $1 (known: --offline, --pull IMAGE, --registry URL)" ;;
  esac
done
ROOT_DIR="$(cd "$VM_IMAGES_DIR/.." && pwd)"
PUBLIC_VM="$ROOT_DIR/public/vm"
TSX=("$ROOT_DIR/node_modules/.bin/tsx")
started=$SECONDS

if [ "$(id -u)" -ne 0 ]; then
  args=()
  for image in "${pull_images[@]}"; do args+=(--pull "$image"); done
  [ -z "$pull_registry" ] || args+=(--registry "$pull_registry")
  [ "$offline" = false ] || args+=(--offline)
  exec sudo -E env "PATH=$PATH" "HOME=$HOME" bash "$0" "${args[@]}"
fi

# --- Host tools -------------------------------------------------------------------------
host_packages=(mmdebstrap seabios zstd e2fsprogs cpio xz-utils gcc dpkg-dev file gnupg)
missing=()
for p in "${host_packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ] || ! dpkg --print-foreign-architectures | grep -qx i386; then
  log "installing host packages: ${missing[*]:-(none)}, i386 architecture"
  dpkg --add-architecture i386
  # The security suite's i386 index sometimes fails its size check; the rest is usable.
  apt-get update -qq || log "warning: apt-get update reported errors (continuing with the indexes that loaded)"
  [ ${#missing[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
enable_i386_programs
[ -x "${TSX[0]}" ] || (cd "$ROOT_DIR" && npm ci --no-audit --no-fund)

# --- Steps ------------------------------------------------------------------------------
# Each step: compute its hash, skip if cached, else build into a fresh folder and mark it.
run_step() { # NAME HASH COMMAND...
  local name=$1 hash=$2; shift 2
  local dir; dir=$(step_dir "$name" "$hash")
  if step_done "$dir"; then
    log "$name: cached ($hash)"
  else
    log "$name: building ($hash)"
    rm -rf "$dir"; mkdir -p "$dir"
    local t=$SECONDS
    # Checked explicitly: errexit is off inside an `if`, and a failed step must never be
    # marked done.
    if ! "$@" "$dir" >&2; then
      rm -rf "$dir"
      die "$name failed (see the output above)"
    fi
    mark_done "$dir"
    log "$name: built in $((SECONDS - t)) s"
  fi
  printf '%s' "$dir"
}

rootfs_hash=$(hash_inputs "$VM_IMAGES_DIR/rootfs/packages.txt" "$VM_IMAGES_DIR/rootfs/build.sh" "$VM_IMAGES_DIR/lib.sh")
rootfs_dir=$(run_step rootfs "$rootfs_hash" bash "$VM_IMAGES_DIR/rootfs/build.sh")

# The docker CLI and dockerd rebuilt from the source of the docker.io the rootfs installed
# (see docker/build.sh for why); the disk puts them over Debian's binaries.
docker_version=$(awk -F'\t' '$1 == "docker.io" {print $2}' "$rootfs_dir/packages.tsv")
[ -n "$docker_version" ] || die "the root filesystem has no docker.io package"
docker_hash=$(HASH_EXTRA="docker.io=$docker_version" hash_inputs "$VM_IMAGES_DIR/docker" "$VM_IMAGES_DIR/lib.sh" "$VM_IMAGES_DIR/debian-source.sh")
docker_dir=$(run_step docker "$docker_hash" bash "$VM_IMAGES_DIR/docker/build.sh" "$docker_version")
# The same for crun, Docker's runtime, as one static binary (see crun/build.sh).
crun_version=$(awk -F'\t' '$1 == "crun" {print $2}' "$rootfs_dir/packages.tsv")
[ -n "$crun_version" ] || die "the root filesystem has no crun package"
crun_hash=$(HASH_EXTRA="crun=$crun_version" hash_inputs "$VM_IMAGES_DIR/crun" "$VM_IMAGES_DIR/lib.sh" "$VM_IMAGES_DIR/debian-source.sh")
crun_dir=$(run_step crun "$crun_hash" bash "$VM_IMAGES_DIR/crun/build.sh" "$crun_version")

kernel_hash=$(HASH_EXTRA="$rootfs_hash" hash_inputs "$VM_IMAGES_DIR/initramfs")
kernel_dir=$(run_step kernel "$kernel_hash" bash "$VM_IMAGES_DIR/initramfs/build.sh" "$rootfs_dir/rootfs.tar")
kver=$(cat "$kernel_dir/kernel-version")

# The key that signs the offline Debian mirror: made once and kept (see apt/key.sh). The
# images' apt trusts it, so its fingerprint is an input of every image.
apt_key_dir=$(run_step apt-key "$(hash_inputs "$VM_IMAGES_DIR/apt/key.sh")" bash "$VM_IMAGES_DIR/apt/key.sh")
apt_key=$apt_key_dir/public.asc

# Images: the debian base first, since python, nginx and redis are layers on top of it.
debian_hash=$(HASH_EXTRA="apt-key=$(cat "$apt_key_dir/fingerprint")" hash_inputs "$VM_IMAGES_DIR/images/debian" "$VM_IMAGES_DIR/lib.sh" "$VM_IMAGES_DIR/apt/offline-sources.sh")
debian_dir=$(run_step image-debian "$debian_hash" env APT_MIRROR_KEY="$apt_key" bash "$VM_IMAGES_DIR/images/debian/build.sh")
preloaded_dirs=("$debian_dir")
registry_dirs=()
image_hashes="debian=$debian_hash "
for image in busybox python hello-world nginx redis; do
  h=$(HASH_EXTRA="$debian_hash" hash_inputs "$VM_IMAGES_DIR/images/$image" "$VM_IMAGES_DIR/lib.sh" "$VM_IMAGES_DIR/tools/layer-diff.ts")
  dir=$(run_step "image-$image" "$h" env DEBIAN_IMAGE="$debian_dir" APT_MIRROR_KEY="$apt_key" bash "$VM_IMAGES_DIR/images/$image/build.sh")
  if grep -q '"availability": "registry"' "$dir/image.json"; then registry_dirs+=("$dir"); else preloaded_dirs+=("$dir"); fi
  image_hashes+="$image=$h "
done
# Images pulled from a registry (--pull): kept as fetched, served by the guest's registry.
# Keyed by name and registry, not by upstream content: delete the cache folder to refresh.
for image in "${pull_images[@]}"; do
  h=$(HASH_EXTRA="$image ${pull_registry:-docker-hub}" hash_inputs "$VM_IMAGES_DIR/tools/pull-image.ts")
  pull() { "${TSX[@]}" "$VM_IMAGES_DIR/tools/pull-image.ts" --image "$image" ${pull_registry:+--registry "$pull_registry"} --out "$1"; }
  dir=$(run_step "pull-${image//[^a-zA-Z0-9._-]/_}" "$h" pull)
  registry_dirs+=("$dir")
  image_hashes+="pull:$image=$h "
done
# The pinned real images: cached by digest, so only a new pin is ever fetched.
pinned=$("${TSX[@]}" "$VM_IMAGES_DIR/tools/pull-pinned.ts" --pins "$VM_IMAGES_DIR/images/docker-hub.json" \
  --cache "$BERTH_CACHE/pinned" --offline "$offline" ${pull_registry:+--registry "$pull_registry"}) ||
  die "reading the pinned images failed (see the output above)"
for dir in $pinned; do
  registry_dirs+=("$dir")
  image_hashes+="$(basename "$dir") "
done
archive_hash=$(HASH_EXTRA="$image_hashes" hash_inputs "$VM_IMAGES_DIR/tools/image-archive.ts")
build_archive() { "${TSX[@]}" "$VM_IMAGES_DIR/tools/image-archive.ts" "$1/images.tar" "${preloaded_dirs[@]}"; }
archive_dir=$(run_step image-archive "$archive_hash" build_archive)
registry_hash=$(HASH_EXTRA="$image_hashes" hash_inputs "$VM_IMAGES_DIR/tools/registry-store.ts" "$VM_IMAGES_DIR/tools/image-archive.ts")
build_registry() {
  "${TSX[@]}" "$VM_IMAGES_DIR/tools/registry-store.ts" --out "$1/store" --digests "$1/layer-digests.json" \
    --image-dirs "$(IFS=,; echo "${registry_dirs[*]}")"
}
registry_dir=$(run_step registry "$registry_hash" build_registry)

# The offline Debian mirror apt in the images reaches as deb.debian.org (apt/build.sh). Not
# on the disk: the page serves it beside the machine, fetched file by file as apt asks.
apt_hash=$(HASH_EXTRA="$debian_hash apt-key=$(cat "$apt_key_dir/fingerprint")" hash_inputs "$VM_IMAGES_DIR/apt/packages.txt" "$VM_IMAGES_DIR/apt/build.sh" "$VM_IMAGES_DIR/lib.sh")
apt_dir=$(run_step apt-mirror "$apt_hash" env DEBIAN_IMAGE="$debian_dir" APT_KEY_DIR="$apt_key_dir" bash "$VM_IMAGES_DIR/apt/build.sh")

disk_hash=$(HASH_EXTRA="$rootfs_hash $docker_hash $crun_hash $kernel_hash $archive_hash $registry_hash" hash_inputs \
  "$VM_IMAGES_DIR/disk" "$VM_IMAGES_DIR/rootfs/overlay" "$VM_IMAGES_DIR/emulator.json" "$VM_IMAGES_DIR/tools/provision.ts")
bios=/usr/share/seabios/bios-256k.bin
vga_bios=/usr/share/seabios/vgabios-stdvga.bin
# Steps of several commands chain them with &&: run_step calls them inside an `if`, where
# errexit does not apply.
build_disk() {
  bash "$VM_IMAGES_DIR/disk/build.sh" "$rootfs_dir/rootfs.tar" "$kver" "$registry_dir/store" "$docker_dir" "$crun_dir" "$1" &&
  "${TSX[@]}" "$VM_IMAGES_DIR/tools/provision.ts" --disk "$1/disk.img" --images "$archive_dir/images.tar" \
    --kernel "$kernel_dir/vmlinuz" --initrd "$kernel_dir/initrd.img" --bios "$bios" --vga-bios "$vga_bios" \
    --catalog "$1/catalog.json" --layer-digests "$registry_dir/layer-digests.json" --image-dirs "$(IFS=,; echo "${preloaded_dirs[*]} ${registry_dirs[*]}" | tr ' ' ,)"
}
disk_dir=$(run_step disk "$disk_hash" build_disk)

chunks_hash=$(HASH_EXTRA="$disk_hash" hash_inputs "$VM_IMAGES_DIR/tools/chunk-disk.ts")
build_chunks() { "${TSX[@]}" "$VM_IMAGES_DIR/tools/chunk-disk.ts" --disk "$disk_dir/disk.img" --out "$1" --layout "$1/layout.json"; }
chunks_dir=$(run_step chunks "$chunks_hash" build_chunks)

v86_version=$(node -p "require('$ROOT_DIR/node_modules/v86/package.json').version")
seabios_version=$(dpkg-query -W -f='${Version}' seabios)
# The Guest class boots and saves the machine, and the disk's state format is part of the
# state: both are inputs.
state_hash=$(HASH_EXTRA="$chunks_hash $kernel_hash v86=$v86_version seabios=$seabios_version" hash_inputs \
  "$VM_IMAGES_DIR/emulator.json" "$VM_IMAGES_DIR/tools/save-state.ts" \
  "$ROOT_DIR/src/lib/vm/guest.ts" "$ROOT_DIR/src/lib/vm/agent-channel.ts" "$ROOT_DIR/src/lib/vm/v86-internals.ts" \
  "$ROOT_DIR/src/lib/vm/chunked-disk.ts" "$ROOT_DIR/src/lib/machine-state/pack.ts" "$ROOT_DIR/src/lib/vm/state-file.ts")
build_state() {
  # The state boots from the chunks exactly as the page does, so they sit beside it.
  cp -al "$chunks_dir/chunks" "$1/chunks" &&
  "${TSX[@]}" "$VM_IMAGES_DIR/tools/save-state.ts" --out "$1" --layout "$chunks_dir/layout.json" \
    --kernel "$kernel_dir/vmlinuz" --initrd "$kernel_dir/initrd.img" --bios "$bios" --vga-bios "$vga_bios" \
    --catalog "$disk_dir/catalog.json" --packages "$rootfs_dir/packages.tsv" --kernel-version "$kver" \
    --build-id "$state_hash"
}
state_dir=$(run_step state "$state_hash" build_state)

# --- Publish ----------------------------------------------------------------------------
# Replace public/vm as a whole (hard links, no copies) so no file of an older build stays.
rm -rf "$PUBLIC_VM.new"
mkdir -p "$(dirname "$PUBLIC_VM")"
cp -al "$state_dir" "$PUBLIC_VM.new" 2>/dev/null || cp -a "$state_dir" "$PUBLIC_VM.new"
rm -f "$PUBLIC_VM.new/.done"
# Named by its content, as the other files are (browsers keep a build's files for good once
# fetched): each InRelease holds its Release, which lists its indexes' hashes, which list
# every package's, and the signature, which names the key.
apt_name="apt-$(cat "$apt_dir"/repo/*/dists/*/InRelease | sha256sum | cut -c1-16)"
cp -al "$apt_dir/repo" "$PUBLIC_VM.new/$apt_name" 2>/dev/null || cp -a "$apt_dir/repo" "$PUBLIC_VM.new/$apt_name"
"${TSX[@]}" "$VM_IMAGES_DIR/tools/apt-manifest.ts" --manifest "$PUBLIC_VM.new/manifest.json" --mirror "$PUBLIC_VM.new/$apt_name"
rm -rf "$PUBLIC_VM.old"; [ -d "$PUBLIC_VM" ] && mv "$PUBLIC_VM" "$PUBLIC_VM.old"
mv "$PUBLIC_VM.new" "$PUBLIC_VM"; rm -rf "$PUBLIC_VM.old"
if [ -n "${SUDO_UID:-}" ]; then chown -R "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$PUBLIC_VM"; fi

log "build $state_hash in public/vm ($(du -sh --apparent-size "$PUBLIC_VM" | cut -f1)) after $((SECONDS - started)) s:"
(cd "$PUBLIC_VM" && ls -1 | grep -v '^chunks$' | sed 's/^/  /'; echo "  chunks/ ($(ls chunks | wc -l) files)")
