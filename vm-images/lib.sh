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
