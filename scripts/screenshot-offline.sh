#!/bin/bash
# Usage: scripts/screenshot-offline.sh SITE_DIR OUT_DIR PAGE... (e.g. site /tmp/shots exercise-1/ex1_01_pen_and_paper/)
# Needs Debian chromium and unshare (root). The browser has loopback only: no other network.
# Serve the built site on loopback inside a network namespace with no other interface, screenshot pages.
set -e
SITE=$1; OUT=$2; shift 2
unshare -n bash -c "
ip link set lo up
cd $SITE && python3 -m http.server 8765 --bind 127.0.0.1 >/dev/null 2>&1 &
sleep 1
for page in $*; do
  name=\$(echo \$page | tr '/.' '__')
  chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync --no-first-run --user-data-dir=\$(mktemp -d) --window-size=1280,1600 --virtual-time-budget=15000 --screenshot=$OUT/\$name.png http://127.0.0.1:8765/\$page 2>/dev/null
done
kill %1
"
