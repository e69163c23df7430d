#!/bin/bash
# Starts a throw-away single-node Ceph (1 mon, optional mgr, 1 OSD on memstore) and its S3 gateway
# (radosgw) on 127.0.0.1, without systemd, for the S3 backend's tests. Everything it creates lives
# under $CEPH_BASE; rgw-stop.sh stops the daemons and deletes that folder.
#
# usage:  scripts/s3/rgw-start.sh      prints one line "S3_ENDPOINT=... S3_ACCESS_KEY_ID=... S3_SECRET_ACCESS_KEY=..."
#         scripts/s3/rgw-stop.sh
# env:    RGW_PORT       S3 port (default 7480)
#         CEPH_BASE      data, config, logs, pids (default /tmp/nestjs-tus-ceph-$RGW_PORT)
#         MON_V2_PORT, MON_V1_PORT   monitor ports (default 3300 + (RGW_PORT - 7480) * 2, 6789 + the same)
#         OSD_STORE      memstore (RAM, default) or bluestore (a sparse 10 GiB file under CEPH_BASE)
#         WITH_MGR       1 to also start ceph-mgr (default 0: radosgw does not need it)
#         S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY   keys of the S3 user (test defaults)
#         CEPH_NO_INSTALL=1   never run apt-get; fail with the list of packages instead
# Needs the Debian/Ubuntu packages ceph-mon ceph-osd radosgw ceph-common curl (installed with
# apt-get when missing and running as root).
set -euo pipefail

RGW_PORT=${RGW_PORT:-7480}
PORT_SHIFT=$(( (RGW_PORT - 7480) * 2 ))
MON_V2=${MON_V2_PORT:-$(( 3300 + PORT_SHIFT ))}
MON_V1=${MON_V1_PORT:-$(( 6789 + PORT_SHIFT ))}
BASE=${CEPH_BASE:-/tmp/nestjs-tus-ceph-$RGW_PORT}
OSD_STORE=${OSD_STORE:-memstore}
WITH_MGR=${WITH_MGR:-0}
S3_AK=${S3_ACCESS_KEY_ID:-TUSTESTACCESSKEY}
S3_SK=${S3_SECRET_ACCESS_KEY:-TUSTESTSECRETKEY}
PACKAGES="ceph-mon ceph-osd radosgw ceph-common curl"
[ "$WITH_MGR" = 1 ] && PACKAGES="$PACKAGES ceph-mgr"

T0=$(date +%s%N)
# progress goes to stderr: stdout carries only the final line that callers parse
ts() { local ms=$(( ($(date +%s%N) - T0) / 1000000 )); printf '[%d.%03ds] %s\n' $((ms / 1000)) $((ms % 1000)) "$*" >&2; }
fail() { echo "rgw-start.sh: $*" >&2; exit 1; }

missing_binaries() {
  local missing=""
  for bin in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool curl; do
    command -v "$bin" >/dev/null 2>&1 || missing="$missing $bin"
  done
  if [ "$WITH_MGR" = 1 ]; then command -v ceph-mgr >/dev/null 2>&1 || missing="$missing ceph-mgr"; fi
  echo "$missing"
}

install_hint="install them with: apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $PACKAGES
(Debian 12 / Ubuntu 22.04+; about 100 s and 270 MB), or point the tests at another S3 server with
S3_ENDPOINT, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY"

if [ -n "$(missing_binaries)" ]; then
  echo "rgw-start.sh: missing:$(missing_binaries)" >&2
  if [ "${CEPH_NO_INSTALL:-0}" = 1 ] || [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    fail "cannot install the Ceph packages here; $install_hint"
  fi
  ts "installing $PACKAGES with apt-get"
  if ! { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $PACKAGES >&2; }; then
    fail "apt-get could not install the Ceph packages; $install_hint"
  fi
  [ -z "$(missing_binaries)" ] || fail "still missing after apt-get:$(missing_binaries); $install_hint"
  ts "installed"
fi

if [ -f "$BASE/pids" ]; then
  fail "$BASE/pids exists: a server started from $BASE may still run; stop it with CEPH_BASE=$BASE scripts/s3/rgw-stop.sh"
fi
if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$RGW_PORT/"; then
  fail "port $RGW_PORT already answers HTTP; choose another with RGW_PORT"
fi
rm -rf "$BASE"
mkdir -p "$BASE"/{mon/ceph-a,mgr/ceph-x,osd/ceph-0,log,run}
FSID=$(cat /proc/sys/kernel/random/uuid)
CONF=$BASE/ceph.conf
cat > "$CONF" <<CONF
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:$MON_V2,v1:127.0.0.1:$MON_V1]
mon initial members = a
public addr = 127.0.0.1
public network = 127.0.0.0/8
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = false
# radosgw defaults ms_mon_client_mode to "secure", which cannot work with auth none: it hangs at start
ms mon client mode = crc
keyring = $BASE/keyring
run dir = $BASE/run
admin socket = $BASE/run/\$name.asok
pid file = $BASE/run/\$name.pid
log file = $BASE/log/\$name.log
log to stderr = false
err to stderr = true
# no crash dumps or other files outside $BASE
crash dir = $BASE/crash
mon cluster log file = default=$BASE/log/ceph.\$channel.log cluster=$BASE/log/ceph.log
exporter sock dir = $BASE/run
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
# faster pool creation on a single node (default 1 s)
paxos propose interval = 0.05
osd mon report interval = 1
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
osd objectstore = $OSD_STORE
memstore device bytes = 4294967296
bluestore block path = $BASE/osd/ceph-0/block.file
bluestore block size = 10737418240
bluestore block create = true
osd data = $BASE/osd/\$cluster-\$id
osd journal size = 100
osd max object name len = 460
osd max object namespace len = 64
osd class update on start = false
osd crush update on start = true
mon data = $BASE/mon/\$cluster-\$id
mgr data = $BASE/mgr/\$cluster-\$id
[mgr]
mgr initial modules =
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw dns name = localhost
rgw enable usage log = false
rgw thread pool size = 64
rgw data = $BASE/rgw
# Deleted objects and aborted multipart parts are only freed by RGW's garbage collector, which by
# default waits 2 h: a test run that uploads and deletes gigabytes would fill the memstore OSD
# (HEALTH_ERR "full osd", every write then hangs). Collect within seconds instead.
rgw gc obj min wait = 2
rgw gc processor period = 5
rgw gc processor max time = 5
CONF

# From here on, a failure stops whatever already runs, so nothing is left behind.
cleanup_on_error() {
  local rc=$?
  echo "rgw-start.sh: start-up failed (exit $rc); logs in $BASE/log:" >&2
  tail -n 20 "$BASE"/log/*.log 2>/dev/null >&2 || true
  KEEP_DATA=1 CEPH_BASE="$BASE" bash "$(dirname "$0")/rgw-stop.sh" >&2 || true
  exit "$rc"
}
trap cleanup_on_error ERR

wait_for() { # description, attempts of 0.1 s, command...
  local what=$1 tries=$2; shift 2
  for _ in $(seq 1 "$tries"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "rgw-start.sh: timed out waiting for $what" >&2; return 1
}

ceph-authtool --create-keyring "$BASE/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool "$BASE/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_V2,v1:127.0.0.1:$MON_V1]" "$BASE/monmap" >/dev/null
ceph-mon -c "$CONF" --mkfs -i a --monmap "$BASE/monmap" --keyring "$BASE/keyring"
ceph-mon -c "$CONF" -i a  # daemonizes; pid in run/mon.a.pid
ts "mon started"
C="ceph -c $CONF --connect-timeout 30"
$C mon enable-msgr2 >/dev/null 2>&1 || true
if [ "$WITH_MGR" = 1 ]; then
  ceph-mgr -c "$CONF" -i x
  ts "mgr started"
fi
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
OSD_ID=$($C osd new "$OSD_UUID")
ceph-osd -c "$CONF" -i "$OSD_ID" --mkfs --osd-uuid "$OSD_UUID" >/dev/null 2>&1
ceph-osd -c "$CONF" -i "$OSD_ID" 2>"$BASE/log/osd-start.stderr.log"
ts "osd.$OSD_ID started ($OSD_STORE)"
osd_up() { $C osd dump | grep -q "^osd.$OSD_ID up"; }
wait_for "osd.$OSD_ID to be up" 600 osd_up
ts "osd.$OSD_ID up"
radosgw -c "$CONF" -n client.rgw.a
ts "radosgw started"
# radosgw-admin talks to RADOS directly; it fails until radosgw has created its pools
create_user() {
  radosgw-admin -c "$CONF" user create --uid=tus --display-name="nestjs-tus tests" \
    --access-key="$S3_AK" --secret-key="$S3_SK" 2>"$BASE/log/user-create.err" ||
    radosgw-admin -c "$CONF" user info --uid=tus
}
for _ in $(seq 1 60); do create_user >/dev/null 2>&1 && break; sleep 0.5; done
radosgw-admin -c "$CONF" user info --uid=tus >/dev/null 2>&1 || { echo "rgw-start.sh: could not create the S3 user" >&2; false; }
ts "S3 user created"
rgw_answers() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$RGW_PORT/" | grep -q 200; }
wait_for "radosgw to answer on port $RGW_PORT" 600 rgw_answers
for f in "$BASE"/run/*.pid; do cat "$f"; echo; done | grep -v '^$' > "$BASE/pids"
trap - ERR
ts "S3 endpoint http://127.0.0.1:$RGW_PORT ready"
echo "S3_ENDPOINT=http://127.0.0.1:$RGW_PORT S3_ACCESS_KEY_ID=$S3_AK S3_SECRET_ACCESS_KEY=$S3_SK CEPH_BASE=$BASE"
