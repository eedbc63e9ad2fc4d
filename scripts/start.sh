#!/usr/bin/env bash
# npm start [-- --offline] — from a fresh clone to a running playground: installs the Node packages,
# builds the guest (as root, through sudo if needed; cached after the first time), and
# serves the page at http://localhost:5173.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules/.bin ] || npm ci --no-audit --no-fund
npm run vm:build -- "$@"
echo
echo "Berth is starting at http://localhost:5173 (Ctrl-C stops it)."
exec npx vite --port 5173 --strictPort
