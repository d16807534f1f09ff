#!/usr/bin/env bash
# The remote-data tests: starts tests/remote/http_server.py (Range, fault
# injection, a SigV4-checking bucket) and s3rver (a local S3 from npm,
# installed into tests/remote/node_modules when missing) on free ports of
# 127.0.0.1, runs each test program given (tests/test_remote.c: plain,
# ASan, TSan builds) with their URLs in the environment, checks the
# tutorial's S3 cell through the cbag command ($CBAG) and
# examples/tutorial, stops the servers (trap on EXIT), and prints
# "N passed, N failed" last. A missing s3rver (npm unreachable) is a
# failure, said so, not a skip.
# Usage: tests/remote/run.sh TEST_PROGRAM...
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
pass=0; fail=0

# Waits for a server to write its port: the port, or nothing.
wait_port() {
  for _ in $(seq 100); do
    [ -s "$1" ] && { cat "$1"; return; }
    kill -0 "$2" 2>/dev/null || return
    sleep 0.1
  done
}

mkdir -p "$tmp/www" "$tmp/s3"
/usr/bin/python3 "$here/http_server.py" "$tmp/www" "$tmp/http.port" 2>"$tmp/http.log" &
pids+=($!)
hport=$(wait_port "$tmp/http.port" $!)
if [ -z "$hport" ]; then
  echo "run.sh: the HTTP test server did not start:"; cat "$tmp/http.log"
  echo "0 passed, 1 failed"; exit 1
fi
export CBAG_TEST_HTTP="http://127.0.0.1:$hport" CBAG_TEST_ROOT="$tmp/www"

# s3rver: from npm, once per checkout. Node 17+ needs OpenSSL's legacy
# provider for the DES that s3rver's ListObjectsV2 continuation tokens use.
s3_why=""
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  s3_why="node or npm is not installed (scripts/deps.sh test installs them)"
elif [ ! -d "$here/node_modules/s3rver" ]; then
  echo "run.sh: installing s3rver from npm into tests/remote/node_modules"
  if ! (cd "$here" && timeout 300 npm install --no-audit --no-fund --loglevel=error) >"$tmp/npm.log" 2>&1; then
    s3_why="npm install s3rver failed: $(tail -5 "$tmp/npm.log" | tr '\n' ' ')"
  fi
fi
if [ -z "$s3_why" ]; then
  node --openssl-legacy-provider "$here/s3_server.js" "$tmp/s3" "$tmp/s3.port" 2>"$tmp/s3.log" &
  pids+=($!)
  sport=$(wait_port "$tmp/s3.port" $!)
  if [ -z "$sport" ]; then
    s3_why="s3rver did not start: $(tail -5 "$tmp/s3.log" | tr '\n' ' ')"
  else
    export CBAG_TEST_S3="http://127.0.0.1:$sport"
    # 1100 keys (two ListObjectsV2 pages) written in s3rver's own layout,
    # and a CSV of the tutorial's shape under the tutorial's key
    /usr/bin/python3 - "$tmp/s3" <<'PY'
import os, sys
d = sys.argv[1]
def put(bucket, key, data):
    p = os.path.join(d, bucket, key)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    open(p + "._S3rver_object", "w").write(data)
    open(p + "._S3rver_metadata.json", "w").write('{"content-type": "text/plain"}')
for i in range(1, 1101):
    put("cbag", "many/k-%04d.txt" % i, "line %d\n" % i)
hdr = ("VendorID,tpep_pickup_datetime,tpep_dropoff_datetime,passenger_count,"
       "trip_distance,pickup_longitude,pickup_latitude,RateCodeID,"
       "store_and_fwd_flag,dropoff_longitude,dropoff_latitude,payment_type,"
       "fare_amount,extra,mta_tax,tip_amount,tolls_amount,"
       "improvement_surcharge,total_amount\n")
row = ("2,2015-01-15 19:05:39,2015-01-15 19:23:42,1,1.59,-73.993896484375,"
       "40.750110626220703,1,N,-73.974784851074219,40.750617980957031,1,12,1,"
       "0.5,3.25,0,0.3,17.05\n")
put("dask-data", "nyc-taxi/2015/yellow_tripdata_2015-01.csv", hdr + row * 1000)
PY
  fi
fi
if [ -n "$s3_why" ]; then
  echo "run.sh: FAIL: no local S3 server, so the s3rver tests are skipped: $s3_why"
  fail=$((fail+1))
fi

# The test programs: cmocka's summaries, summed by scripts/run-tests.
out=$("$repo/scripts/run-tests" remote "$@" 2>&1)
[ -n "${CBAG_REMOTE_VERBOSE:-}" ] && for t in "$@"; do "$t"; done
printf '%s\n' "$out" | sed '$d'
p=$(printf '%s\n' "$out" | tail -1 | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p')
f=$(printf '%s\n' "$out" | tail -1 | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p')
pass=$((pass+${p:-0})); fail=$((fail+${f:-1}))

# The tutorial's S3 cell, as the notebook writes it, against s3rver.
cbag=${CBAG:-$repo/build/release/cbag}
if [ -n "${CBAG_TEST_S3:-}" ] && [ -x "$cbag" ]; then
  got=$(AWS_ENDPOINT_URL=$CBAG_TEST_S3 "$cbag" "b = db.read_text('s3://dask-data/nyc-taxi/2015/yellow_tripdata_2015-01.csv', storage_options={'anon': True}); b.take(2)" 2>&1)
  if printf '%s' "$got" | grep -q "^('VendorID,tpep_pickup_datetime" &&
     printf '%s' "$got" | grep -q "'2,2015-01-15 19:05:39,.*,17.05\\\\n')"; then
    echo "[remote] tutorial cell 17 (s3://dask-data, anon): ok"; pass=$((pass+1))
  else
    echo "[remote] tutorial cell 17 (s3://dask-data, anon): FAILED:"; printf '%s\n' "$got" | head -20
    fail=$((fail+1))
  fi
  got=$(AWS_ENDPOINT_URL=$CBAG_TEST_S3 "$repo/build/release/examples/tutorial" --cell 17 2>&1)
  if printf '%s' "$got" | grep -q "'2,2015-01-15 19:05:39,"; then
    echo "[remote] examples/tutorial cell 17: ok"; pass=$((pass+1))
  else
    echo "[remote] examples/tutorial cell 17: FAILED:"; printf '%s\n' "$got" | tail -20
    fail=$((fail+1))
  fi
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
