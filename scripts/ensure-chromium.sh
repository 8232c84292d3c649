#!/usr/bin/env bash
# Browser tests drive Debian's chromium (a test tool's own browser download does not work
# on intranet or CI machines); the CJK fonts make Chinese render in screenshots and PDFs.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing+=(fonts-noto-cjk)
bash "$(dirname "$0")/apt-install.sh" "${missing[@]}"
command -v chromium
