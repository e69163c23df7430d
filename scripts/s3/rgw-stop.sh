#!/bin/bash
# Stops the daemons started by rgw-start.sh (by the pids it recorded, never by name), then deletes
# its folder. env: RGW_PORT or CEPH_BASE as given to rgw-start.sh; KEEP_DATA=1 keeps the folder.
set -uo pipefail
RGW_PORT=${RGW_PORT:-7480}
BASE=${CEPH_BASE:-/tmp/nestjs-tus-ceph-$RGW_PORT}
[ -d "$BASE" ] || exit 0
PIDS=$(cat "$BASE/pids" 2>/dev/null; for f in "$BASE"/run/*.pid; do [ -f "$f" ] && cat "$f" && echo; done)
PIDS=$(echo "$PIDS" | grep -E '^[0-9]+$' | sort -u)
for p in $PIDS; do kill "$p" 2>/dev/null; done
for _ in $(seq 1 100); do
  alive=0
  for p in $PIDS; do kill -0 "$p" 2>/dev/null && alive=1; done
  [ "$alive" = 0 ] && break
  sleep 0.1
done
for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
rm -f "$BASE/pids"
[ "${KEEP_DATA:-0}" = 1 ] || rm -rf "$BASE"
exit 0
