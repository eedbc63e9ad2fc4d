# offline_apt_sources TREE : an image's apt set up as the official debian:bookworm image has
# it (deb.debian.org's bookworm, bookworm-updates and bookworm-security, in deb822), trusting
# the key of Berth's offline mirror ($APT_MIRROR_KEY), which the page serves at those
# addresses. Sourced by the debian-based images' build scripts, after mmdebstrap_image.
offline_apt_sources() {
  local tree=$1
  [ -f "${APT_MIRROR_KEY:-}" ] || die "APT_MIRROR_KEY must name the offline mirror's public key"
  rm -f "$tree/etc/apt/sources.list"
  # No Signed-By (the official file names Debian's keyring there): apt then accepts any key in
  # trusted.gpg.d, which holds Debian's and the mirror's.
  cat > "$tree/etc/apt/sources.list.d/debian.sources" <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
SOURCES
  install -m 644 "$APT_MIRROR_KEY" "$tree/etc/apt/trusted.gpg.d/berth-offline-mirror.asc"
}
