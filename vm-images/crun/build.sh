#!/usr/bin/env bash
# crun, Docker's runtime in the guest, built from Debian's own source package of exactly
# the crun version the guest's root filesystem installed, as one static binary.
# Why: dockerd runs the runtime four times per container, and Debian's crun loads eight
# shared libraries each time (libsystemd and what it links: lzma, zstd, lz4, gcrypt,
# gpg-error, cap; then seccomp, yajl). In the emulator the loading, not crun's own work,
# was most of its ~8 M instructions a call (`crun --version`: 61,529 user-mode
# instructions natively under valgrind).
# What differs from Debian's build: no systemd support (the guest has no systemd; dockerd
# drives cgroups itself, cgroupfs), static, not PIE; the same configure otherwise, with
# the runtime and image specs from Debian's golang packages as debian/rules takes them.
# Built in an i386 Debian chroot (mmdebstrap; i386 programs run on the amd64 host).
# Input: $1 = the crun package version (from the root filesystem's package list).
# Output: $OUT/crun, $OUT/build-info.txt
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../debian-source.sh"
version="$1"; OUT="$2"
version=${version%+b[0-9]*}      # a binNMU (+b6) is a rebuild of the same source

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
chmod 755 "$work"   # apt's unprivileged fetcher writes the package lists here
apt_with_sources "$work/apt"
debian_source crun "$version" "$work/src"

mirror=$(debian_mirror); security=$(debian_security_mirror)
build_packages=build-essential,pkgconf,gperf,python3,file,libcap-dev,libseccomp-dev,libyajl-dev
build_packages+=,golang-github-opencontainers-specs-dev,golang-github-opencontainers-image-spec-dev
sources=("deb $mirror bookworm main" "deb $mirror bookworm-updates main")
[ -z "$security" ] || sources+=("deb $security bookworm-security main")
log "crun: an i386 build chroot (build-essential and crun's build dependencies)"
mmdebstrap --quiet --arch=i386 --variant=minbase --include="$build_packages" \
  --aptopt='APT::Install-Recommends "false"' bookworm "$work/chroot" "${sources[@]}" >&2 || {
  # The security suite's i386 index sometimes fails its size check on the mirror (as for
  # the root filesystem); the first attempt leaves a chroot mmdebstrap will not reuse.
  log "crun: building without bookworm-security (its index failed)"
  rm -rf "$work/chroot"
  mmdebstrap --quiet --arch=i386 --variant=minbase --include="$build_packages" \
    --aptopt='APT::Install-Recommends "false"' bookworm "$work/chroot" "${sources[@]:0:2}" >&2
}
mv "$work/src" "$work/chroot/build"
# As debian/rules: the specs from Debian's golang packages in place of the bundled ones.
chroot "$work/chroot" sh -ec '
  cd /build
  for spec in image-spec runtime-spec; do
    rm -rf libocispec/$spec && cp -r /usr/share/gocode/src/github.com/opencontainers/$spec libocispec/
  done
  # Debian ships yajl'"'"'s static library under another name.
  ln -sf libyajl_s.a /usr/lib/i386-linux-gnu/libyajl.a
  # Debian'"'"'s hardening flags but for PIE (a static PIE relocates itself at every start).
  ./configure --quiet --disable-systemd --disable-shared --enable-static \
    CFLAGS="-O2 -fstack-protector-strong -D_FORTIFY_SOURCE=2" LDFLAGS="-Wl,-z,relro -Wl,-z,now" >/dev/null 2>&1
  make -s generate-signals.c generate-mount_flags.c >/dev/null
  # libtool links a program fully static only with -all-static. (Its warnings that
  # getpwuid_r and dlopen need the same glibc at run time hold: the guest has it.)
  make -s -j"$(nproc)" CRUN_LDFLAGS=-all-static >/build/make.log 2>&1 || { cat /build/make.log; exit 1; }
  strip crun
  # Without /proc here crun cannot re-execute itself from a memory file, which it does
  # before anything else, so its version is read from the build.
  sed -n "s/^#define PACKAGE_VERSION \"\(.*\)\"$/crun version \1/p" config.h
' > "$work/version.txt"
install -m 0755 "$work/chroot/build/crun" "$OUT/crun"
{
  echo "crun $version from Debian's source package, built by vm-images/crun/build.sh"
  cat "$work/version.txt"
} > "$OUT/build-info.txt"
file "$OUT/crun" | grep -q 'statically linked' || die "crun: the build is not static: $(file -b "$OUT/crun")"
log "crun: $(du -h "$OUT/crun" | cut -f1), $(cat "$work/version.txt")"
