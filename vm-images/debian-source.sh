# Debian's source packages for the build steps that rebuild a guest program from them
# (docker/, crun/). Sourced after lib.sh, never run. Kept apart from lib.sh, which every
# step hashes: a change here rebuilds only the steps that source it.

# apt_with_sources WORK_DIR : sets APT_SOURCES_OPTS to options for an apt that reads this
# host's Debian mirrors plus their deb-src twins, keeping its package lists in WORK_DIR
# (the host's own lists stay as they are), and fetches those lists.
apt_with_sources() {
  local work=$1 mirror security kind suite
  mirror=$(debian_mirror); security=$(debian_security_mirror)
  mkdir -p "$work/parts" "$work/lists/partial"
  for kind in deb deb-src; do
    for suite in bookworm bookworm-updates; do
      echo "$kind [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main"
    done
    [ -z "$security" ] || echo "$kind [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $security bookworm-security main"
  done > "$work/sources.list"
  APT_SOURCES_OPTS=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=$work/parts"
    -o "Dir::State::Lists=$work/lists" -o DPkg::Lock::Timeout=600)
  # The security suite's index sometimes fails its size check; the rest is usable.
  apt-get "${APT_SOURCES_OPTS[@]}" update -qq >&2 || log "warning: apt-get update reported errors (continuing)"
}

# debian_source PACKAGE VERSION DEST : Debian's source package of exactly that version,
# unpacked into DEST with Debian's patches applied (after apt_with_sources). apt checks the
# .dsc against the signed index, dpkg-source the files against the .dsc (its warning that
# it cannot check the .dsc's own signature without debian-keyring is dropped).
debian_source() {
  local package=$1 version=$2 dest=$3 fetch
  fetch=$(mktemp -d)
  (cd "$fetch" && apt-get "${APT_SOURCES_OPTS[@]}" source -qq --download-only "$package=$version" >/dev/null 2>&1) ||
    die "could not fetch the source of $package $version from the host's apt mirror"
  dpkg-source -x "$fetch/${package}_${version#*:}.dsc" "$dest" 2> >(grep -v -e 'cannot verify inline signature' -e '^gpgv:' >&2) >/dev/null
  rm -rf "$fetch"
}
