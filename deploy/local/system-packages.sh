#!/usr/bin/env bash
# Installs the operating-system packages Steward's embedded stack needs, when missing.
# Debian/Ubuntu only; other systems: install PostgreSQL 15+ server binaries by hand.
set -euo pipefail

need=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then
  need+=(postgresql)
fi
# The review desk's browser test drives Debian's headless Chromium through Playwright.
if [ ! -x /usr/bin/chromium ]; then
  need+=(chromium)
fi

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing system packages: ${need[*]}; install them (sudo apt-get install ${need[*]})" >&2
  exit 1
fi
echo "Installing system packages: ${need[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
