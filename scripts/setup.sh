#!/usr/bin/env bash
# Installs what herold needs to build and test on Debian 12 (run as root, or with sudo).
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
need=()
for pkg in libcurl4-openssl-dev libsqlite3-dev pkg-config systemd openssl prometheus postgresql; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
fi
# The SMTP server the integration tests talk to (a real one, on 127.0.0.1), and the
# independent libraries that check what herold sends (Standard Webhooks, CloudEvents SDK).
python3 -c 'import aiosmtpd, standardwebhooks, cloudevents' 2>/dev/null \
  || python3 -m pip install -q aiosmtpd standardwebhooks cloudevents
