#!/usr/bin/env bash
# Installs Debian's headless Chromium for the report's browser test.
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
[ "$(id -u)" = 0 ] || { echo "not root: cannot apt-get install chromium"; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq chromium >/dev/null
