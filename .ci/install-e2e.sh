#!/usr/bin/env bash
# What the end-to-end tests need on a fresh Debian machine, run as root from any directory:
# Debian's chromium for tests/idp/web/test_browser.py (never `playwright install`, which downloads a
# browser), Debian's Apache httpd with mod_auth_openidc for tests/idp/rp/test_mod_auth_openidc.py,
# the pinned npm openid-client for tests/idp/rp/test_openid_client.py and the pinned npm axe-core
# for tests/idp/web/test_page_accessibility.py.
# Idempotent: the Debian packages are installed only when missing; `npm ci` restores
# tests/idp/rp/node_modules and tests/pages/node_modules exactly from their package-lock.json.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

apt_updated=""
# Debian packages `$@`, installed as root; the package lists are fetched once per run.
apt_install() {
  if [[ "${EUID}" -ne 0 ]]; then
    echo "install-e2e: installing $* needs root" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if [[ -z "${apt_updated}" ]]; then
    apt-get -qq update
    apt_updated=1
  fi
  apt-get -qq install -y "$@" >/dev/null
}

if [[ ! -x /usr/bin/chromium ]]; then
  apt_install chromium
fi
# Without recommends: Apache's are extra modules and tools the test's own config never loads.
if [[ ! -x /usr/sbin/apache2 || ! -f /usr/lib/apache2/modules/mod_auth_openidc.so ]]; then
  apt_install --no-install-recommends apache2 libapache2-mod-auth-openidc
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "install-e2e: npm (Node 20+) is required for tests/idp/rp and tests/pages" >&2
  exit 1
fi
npm ci --prefix "${repo_root}/tests/idp/rp" --no-audit --no-fund --loglevel=error >/dev/null
npm ci --prefix "${repo_root}/tests/pages" --no-audit --no-fund --loglevel=error >/dev/null
