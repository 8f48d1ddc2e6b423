#!/usr/bin/env bash
# System packages the platform and its tests need, installed only where missing (root and apt on a fresh machine).
set -euo pipefail

have_postgres() {
  command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

missing=()
have_postgres || missing+=(postgresql)
# PDF letters and reports in Vietnamese need a font with its diacritics
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
# the dashboard's end-to-end test drives Debian's Chromium through Playwright (no browser download)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# `system-deps.sh bench`: the gateway benchmark measures its overhead against nginx (make bench only)
if [ "${1:-}" = "bench" ]; then
  [ -x /usr/sbin/nginx ] || missing+=(nginx)
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing system packages: ${missing[*]} (install them with apt-get as root)" >&2
    exit 1
  fi
  echo "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
