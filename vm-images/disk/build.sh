#!/usr/bin/env bash
# The guest's root disk before provisioning: the root filesystem with the kernel's
# modules pruned to what the guest uses, the overlay (init, agent, Docker settings)
# on top, as a sparse raw ext4 image.
# Input: $1 = rootfs.tar, $2 = kernel version, $3 = the guest registry's storage tree,
# $4 = the docker step's folder (docker and dockerd rebuilt from Debian's source), $5 = the
# crun step's (crun, the same, static).
# Output: $OUT/disk.img
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
ROOTFS_TAR="$1"; KVER="$2"; REGISTRY_STORE="$3"; DOCKER_BUILD="$4"; CRUN_BUILD="$5"; OUT="$6"
DISK_SIZE="${BERTH_DISK_SIZE:-4G}"

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root" "$OUT"
tar --numeric-owner -C "$root" -xf "$ROOTFS_TAR"

# The kernel boots from the harness's files, not from /boot; keep only the modules a
# Docker host in v86 can use (filesystems, networking, virtio, the IDE disk).
moddir=$(first_existing "$root/usr/lib/modules/$KVER" "$root/lib/modules/$KVER") || die "no modules for $KVER"
rm -rf "$root"/boot/* "$moddir/kernel/sound"
find "$moddir/kernel/drivers" -mindepth 1 -maxdepth 1 \
  ! -name virtio ! -name char ! -name ata ! -name scsi ! -name block ! -name net ! -name md -exec rm -rf {} +
find "$moddir/kernel/drivers/net" -mindepth 1 -maxdepth 1 -type d ! -name vxlan ! -name ipvlan -exec rm -rf {} +
chroot "$root" /sbin/depmod "$KVER"

# initramfs-tools came in as the kernel package's dependency; the guest boots without it.
rm -rf "$root"/var/lib/initramfs-tools "$root"/var/cache/debconf/*-old "$root"/var/log/*.log
cp -a "$VM_IMAGES_DIR/rootfs/overlay/." "$root/"
# Every instance makes its own ssh host key when it joins a LAN (src/lib/instances/); keys
# made here would be the same in every copy of the site.
rm -f "$root"/etc/ssh/ssh_host_*
# Debian's docker.io and crun packages stay installed (their files, scripts and dpkg's
# record); only their programs are replaced by the same sources built static and
# position-dependent (docker/build.sh and crun/build.sh say why).
install -m 0755 "$DOCKER_BUILD/docker" "$root/usr/bin/docker"
install -m 0755 "$DOCKER_BUILD/dockerd" "$root/usr/sbin/dockerd"
install -m 0755 "$CRUN_BUILD/crun" "$root/usr/bin/crun"
cat "$DOCKER_BUILD/build-info.txt" "$CRUN_BUILD/build-info.txt" > "$root/etc/berth/rebuilt-from-source.txt"
# Docker's runtime: crun after pointing the setkey hook at Berth's (see the source); a
# static binary without libc, so each of the four calls per container starts fast.
mkdir -p "$root/usr/local/libexec/berth"
# shellcheck disable=SC2046 # the flags file is a list of words
gcc $(cat "$VM_IMAGES_DIR/disk/crun-wrapper.gcc-flags") -o "$root/usr/local/libexec/berth/crun" \
  "$VM_IMAGES_DIR/disk/crun-wrapper.c"
chown -R 0:0 "$root/etc/berth" "$root/usr/local/sbin" "$root/root"
date +%s > "$root/etc/berth/build-time"
mkdir -p "$root/workspace" "$root/var/lib/docker" "$root/var/lib/docker-registry"
cp -a "$REGISTRY_STORE/." "$root/var/lib/docker-registry/"

rm -f "$OUT/disk.img"
truncate -s "$DISK_SIZE" "$OUT/disk.img"
# No journal: in the emulator the disk lives in memory and in snapshots, where a journal
# only doubles every write. Inode tables are zeroed now (lazy_itable_init=0), otherwise
# the guest kernel would write them all in the background after boot.
mkfs.ext4 -q -F -L berth-root -m 0 -O ^has_journal -E lazy_itable_init=0,lazy_journal_init=0,root_owner=0:0 \
  -d "$root" "$OUT/disk.img"
log "disk: $OUT/disk.img ($DISK_SIZE, $(du -h "$OUT/disk.img" | cut -f1) used)"
