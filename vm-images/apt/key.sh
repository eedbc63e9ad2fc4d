#!/usr/bin/env bash
# The key that signs the guest's offline Debian mirror. Made once per build cache, never
# shipped: the site carries only the public half, which the images' apt trusts
# (/etc/apt/trusted.gpg.d/berth-offline-mirror.asc). Debian's own key cannot sign an index of
# a curated subset, and serving Debian's whole signed index instead would mean ~9 MB more to
# fetch and a 60,000-package cache to build in the emulator at every `apt-get update`.
# Output: $OUT/gnupg (the secret key), $OUT/public.asc, $OUT/fingerprint.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
OUT="$1"
export GNUPGHOME="$OUT/gnupg"
mkdir -m 700 -p "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-generate-key 'Berth offline Debian mirror <offline-mirror@berth.invalid>' ed25519 sign never
gpg --batch --with-colons --list-keys | awk -F: '$1 == "fpr" {print $10; exit}' > "$OUT/fingerprint"
gpg --batch --armor --export > "$OUT/public.asc"
gpgconf --kill gpg-agent || true
log "apt mirror key: $(cat "$OUT/fingerprint")"
