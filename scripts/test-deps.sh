#!/usr/bin/env bash
# Before `npm test`: the end-to-end tests drive Debian's browsers, and every test needs the
# guest build in public/vm. Install or build what is missing; never download a browser.
set -euo pipefail
cd "$(dirname "$0")/.."
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
# Debian's browsers for the end-to-end tests: Chromium (Playwright), Firefox ESR (its own
# WebDriver BiDi) and WebKitGTK's MiniBrowser (WebKitWebDriver, on an Xvfb display).
browsers=()
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || browsers+=(chromium)
[ -x "${FIREFOX_PATH:-/usr/bin/firefox-esr}" ] || browsers+=(firefox-esr)
[ -x "${WEBKIT_DRIVER_PATH:-/usr/bin/WebKitWebDriver}" ] || browsers+=(webkit2gtk-driver)
[ -x /usr/bin/Xvfb ] || browsers+=(xvfb)
if [ ${#browsers[@]} -gt 0 ]; then
  echo "test-deps: installing Debian's ${browsers[*]} for the end-to-end tests"
  as_root apt-get update -qq || echo "test-deps: apt-get update reported errors (continuing)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${browsers[@]}" >/dev/null
fi
# The --pull tests run a real Registry v2 server: Debian's docker-registry on loopback.
if [ ! -x /usr/bin/docker-registry ]; then
  echo "test-deps: installing docker-registry for the --pull tests"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null || { as_root apt-get update -qq || true; as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null; }
fi
# The offline tests serve dist/ with Python's http.server and make a second build's state
# with zstd.
for tool in python3 zstd; do
  if ! command -v "$tool" >/dev/null; then
    echo "test-deps: installing $tool for the offline tests"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null || { as_root apt-get update -qq || true; as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null; }
  fi
done
# The unit test of the page's ssh keys reads them back with OpenSSH's own ssh-keygen.
if ! command -v ssh-keygen >/dev/null; then
  echo "test-deps: installing openssh-client for the ssh key tests"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-client >/dev/null || { as_root apt-get update -qq || true; as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-client >/dev/null; }
fi
[ -d node_modules/.bin ] || npm ci --no-audit --no-fund
[ -f public/vm/manifest.json ] || npm run vm:build
