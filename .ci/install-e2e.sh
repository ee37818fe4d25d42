#!/usr/bin/env bash
# What the end-to-end tests need on a fresh Debian machine, run as root from any directory:
# Debian's chromium for tests/idp/test_browser.py (never `playwright install`, which downloads a
# browser), the pinned npm openid-client for tests/idp/test_openid_client.py and the pinned npm
# axe-core for tests/idp/test_page_accessibility.py.
# Idempotent: chromium is installed only when missing; `npm ci` restores tests/idp/rp/node_modules
# and tests/pages/node_modules exactly from their package-lock.json.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [[ ! -x /usr/bin/chromium ]]; then
  if [[ "${EUID}" -ne 0 ]]; then
    echo "install-e2e: /usr/bin/chromium is missing and installing it needs root" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get -qq update
  apt-get -qq install -y chromium >/dev/null
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "install-e2e: npm (Node 20+) is required for tests/idp/rp and tests/pages" >&2
  exit 1
fi
npm ci --prefix "${repo_root}/tests/idp/rp" --no-audit --no-fund --loglevel=error >/dev/null
npm ci --prefix "${repo_root}/tests/pages" --no-audit --no-fund --loglevel=error >/dev/null
