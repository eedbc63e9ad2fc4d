#!/usr/bin/env bash
# The guest's offline Debian mirror: the packages of packages.txt and everything they need on
# top of the debian image, downloaded from this host's Debian mirror (the same one the images
# were made from), laid out as Debian's archive and signed with the mirror key. The page
# answers the guest's requests to deb.debian.org from it (src/lib/vm/debian-mirror.ts).
#   $DEBIAN_IMAGE   the debian image's step folder (its dpkg status says what is installed)
#   $APT_KEY_DIR    the key step's folder
# Output: $OUT/repo/{debian,debian-security}/…, $OUT/repo/index.json, $OUT/repo/curated.txt.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
OUT="$1"
work=$(mktemp -d)
# gpg starts an agent for the copy of the key's home; it goes with the work folder.
trap 'GNUPGHOME="$work/gnupg" gpgconf --kill gpg-agent 2>/dev/null; rm -rf "$work"' EXIT
mirror=$(debian_mirror)
mapfile -t curated < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$VM_IMAGES_DIR/apt/packages.txt" | grep -v '^$')

# apt on this host, pointed at bookworm main for i386 and at the debian image's dpkg status,
# so it downloads exactly what `apt-get install` in that image would need.
mkdir -p "$work/state/lists/partial" "$work/cache/archives/partial" "$work/etc/apt.conf.d" "$work/etc/preferences.d" "$work/etc/sources.list.d"
tar -xOf "$DEBIAN_IMAGE/layer.tar" ./var/lib/dpkg/status > "$work/status"
tar -xOf "$DEBIAN_IMAGE/layer.tar" ./etc/apt/apt.conf.d/99mmdebstrap > "$work/etc/apt.conf.d/99mmdebstrap"
echo "deb [arch=i386 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm main" > "$work/etc/sources.list"
cat > "$work/apt.conf" <<CONF
Dir::Etc "$work/etc/";
Dir::Etc::SourceList "$work/etc/sources.list";
Dir::Etc::SourceParts "$work/etc/sources.list.d";
Dir::Etc::Parts "$work/etc/apt.conf.d";
Dir::Etc::Preferences "$work/etc/preferences";
Dir::Etc::PreferencesParts "$work/etc/preferences.d";
Dir::State "$work/state/";
Dir::State::status "$work/status";
Dir::Cache "$work/cache/";
APT::Architecture "i386";
APT::Architectures { "i386"; };
Debug::NoLocking "true";
CONF
export APT_CONFIG="$work/apt.conf"
apt-get update -qq
# The image's own apt settings (mmdebstrap's: no Recommends) decide what an install pulls in.
apt-get install -qq -y --download-only "${curated[@]}" >/dev/null
debs=("$work"/cache/archives/*.deb)
[ -e "${debs[0]}" ] || die "apt downloaded no packages for the mirror"

repo="$OUT/repo"
# Named as in Debian's pool: apt's cache spells an epoch into the name (git_1%3a2.39…), the
# archive does not, and a "%" would not survive the trip through a URL to the static host.
for deb in "${debs[@]}"; do
  name=$(dpkg-deb -f "$deb" Package)
  dir="$repo/debian/pool/main/${name:0:1}/$name"
  mkdir -p "$dir"
  mv "$deb" "$dir/$(basename "$deb" | sed 's/_[0-9]*%3a/_/')"
done
! find "$repo" -name '*%*' | grep -q . || die "a package's file name still holds a %: $(find "$repo" -name '*%*' | head -1)"

# release_file DIR SUITE CODENAME : Release for DIR/dists/SUITE, listing its indexes' hashes;
# then signed inline (InRelease, what apt asks for first) and detached (Release.gpg).
date=$(awk '/^Date:/ {sub(/^Date: /, ""); print; exit}' "$work"/state/lists/*_InRelease)
release_file() {
  local dists=$1/dists/$2 suite=$2 codename=$3
  (cd "$dists" && {
    printf 'Origin: Debian\nLabel: Debian\nSuite: %s\nCodename: %s\nDate: %s\nArchitectures: i386\nComponents: main\n' "$suite" "$codename" "$date"
    printf 'Description: Berth offline mirror of Debian %s (a curated set, signed by Berth)\n' "$codename"
    printf 'MD5Sum:\n'; find main -type f | LC_ALL=C sort | while read -r f; do printf ' %s %16s %s\n' "$(md5sum < "$f" | cut -d' ' -f1)" "$(stat -c %s "$f")" "$f"; done
    printf 'SHA256:\n'; find main -type f | LC_ALL=C sort | while read -r f; do printf ' %s %16s %s\n' "$(sha256sum < "$f" | cut -d' ' -f1)" "$(stat -c %s "$f")" "$f"; done
  } > Release)
  GNUPGHOME="$work/gnupg" gpg --batch --quiet --yes --clearsign -o "$dists/InRelease" "$dists/Release"
  GNUPGHOME="$work/gnupg" gpg --batch --quiet --yes --armor --detach-sign -o "$dists/Release.gpg" "$dists/Release"
}
# A copy of the key's home, so the cached one is never written by gpg-agent.
cp -a "$APT_KEY_DIR/gnupg" "$work/gnupg"

index_dir() { # ARCHIVE SUITE : main/binary-i386 with Packages (plain, gz, xz)
  local d=$1/dists/$2/main/binary-i386
  mkdir -p "$d"
  if [ "$2" = bookworm ]; then (cd "$1" && dpkg-scanpackages --multiversion pool) > "$d/Packages"; else : > "$d/Packages"; fi
  gzip -9nc "$d/Packages" > "$d/Packages.gz"
  xz -9c "$d/Packages" > "$d/Packages.xz"
}
# One command a line: a function called before && runs with errexit off inside it.
index_dir "$repo/debian" bookworm
release_file "$repo/debian" bookworm bookworm
# bookworm-updates and bookworm-security are in the images' sources, as in Debian's: empty
# here, so `apt-get update` finds them and installs the versions of bookworm itself.
index_dir "$repo/debian" bookworm-updates
release_file "$repo/debian" bookworm-updates bookworm-updates
index_dir "$repo/debian-security" bookworm-security
release_file "$repo/debian-security" bookworm-security bookworm-security

printf '%s\n' "${curated[@]}" > "$repo/curated.txt"
(cd "$repo" && find . -type f ! -name index.json | sed 's:^\./::' | LC_ALL=C sort) > "$work/files.txt"
count=$(grep -c '^Package:' "$repo/debian/dists/bookworm/main/binary-i386/Packages")
node -e '
  const fs = require("fs");
  fs.writeFileSync(process.argv[2], JSON.stringify({ files: fs.readFileSync(process.argv[1], "utf8").trim().split("\n") }));
' "$work/files.txt" "$repo/index.json"
log "apt mirror: ${#curated[@]} packages asked for, $count in all, $(du -sh --apparent-size "$repo" | cut -f1)"
