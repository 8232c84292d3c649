#!/usr/bin/env bash
# Installs Debian packages the set-up needs, when run as root (CI, a fresh container);
# otherwise prints the one command to run and fails, rather than asking for a password.
set -euo pipefail
[ $# -gt 0 ] || exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "gongzhi needs: $* — run: sudo apt-get install -y $*" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
