#!/usr/bin/env bash
# `compilemessages` turns the .po translations into .mo files with GNU gettext's msgfmt.
set -euo pipefail
command -v msgfmt >/dev/null 2>&1 || bash "$(dirname "$0")/apt-install.sh" gettext
