#!/usr/bin/env bash
# The mpi scheduler under mpirun (make test-mpi): every operation against the
# threads scheduler at 1, 2 and 3 ranks with one or two threads per rank
# (tests/mpi/ops.c: groupby spilled, failing ranks, a bad file, fewer
# partitions than ranks), the cbag command under mpirun, and a rank killed
# by a signal ending the job. Prints "N passed, N failed" last; exits 1 on
# any failure. Skipped (passing, with a message) when cbag was built
# without MPI.
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ "${MPI:-1}" != 1 ] || ! command -v mpirun >/dev/null; then
  echo "test-mpi: skipped: cbag was built without MPI (MPI=0, or no mpicc;"
  echo "          apt-get install libopenmpi-dev openmpi-bin, then make)"
  echo "0 passed, 0 failed"
  exit 0
fi
OPS=${OPS:-$root/build/release/tests/mpi/ops}
CBAG=${CBAG:-$root/build/release/cbag}
case $OPS in /*) ;; *) OPS=$root/$OPS ;; esac
case $CBAG in /*) ;; *) CBAG=$root/$CBAG ;; esac
for x in "$OPS" "$CBAG"; do
  [ -x "$x" ] || { echo "no $x: run make test-mpi"; echo "0 passed, 1 failed"; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); printf 'FAIL: %s\n' "$1"; [ -n "$2" ] && printf '%s\n' "$2" | tail -30; }

# Open MPI as root, in a container, on 2 cores: root allowed, more ranks
# than cores, shared memory without the single-copy mechanism (CMA needs
# ptrace, which containers often forbid), no binding (ranks run threads),
# idle ranks yield the core, and no hunting for network interfaces.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_mpi_yield_when_idle=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_hwloc_base_binding_policy=none
mpi() { local np=$1; shift; timeout 300 mpirun --oversubscribe -np "$np" "$@"; }

# Small accounts data (4 files) and a file that is not gzip.
"$CBAG" prep accounts --dir data --files 4 --accounts 40 --transactions 3000 >/dev/null ||
  { echo "prep failed"; echo "0 passed, 1 failed"; exit 1; }
mkdir -p data/bad && printf 'not gzip at all\n' > data/bad/x.gz

# ---------------------------------------------------------------------------
# Every operation: ranks x threads per rank; the last with MPI transfers cut
# into 100-byte slices (CBAG_MPI_SLICE), as transfers over 2 GiB are.
for cfg in "1 2" "2 1" "3 2" "3 1 100"; do
  set -- $cfg
  mkdir -p "out-$1-$2"
  CBAG_MPI_SLICE=${3:-0} mpi "$1" -x CBAG_MPI_SLICE "$OPS" check "$tmp/data" "$tmp/out-$1-$2" "$2" >"ops.out" 2>"ops.err"; rc=$?
  p=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' ops.out | tail -1)
  f=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' ops.out | tail -1)
  if [ -z "$p" ]; then
    bad "ops at $1 ranks x $2 threads: no summary (rc $rc)" "$(cat ops.out ops.err)"
    continue
  fi
  pass=$((pass+p)); fail=$((fail+f))
  echo "[mpi] ops at $1 ranks x $2 threads${3:+, ${3}-byte slices}: $p passed, $f failed"
  if [ "$f" -gt 0 ]; then grep '^FAIL' ops.out; cat ops.err | head -40; fi
  if [ "$f" -eq 0 ] && [ $rc -ne 0 ]; then
    bad "ops at $1 ranks x $2 threads: rc $rc" "$(cat ops.err)"
  fi
done

# ---------------------------------------------------------------------------
# The cbag command: rank 0 prints what threads prints; errors fail the job.

# check NAME NP PROGRAM [OPTION...]: the same stdout as with threads, once
check() {
  local name=$1 np=$2 prog=$3; shift 3
  local want; want=$("$CBAG" -j 2 "$@" "$prog" 2>&1)
  local got; got=$(mpi "$np" "$CBAG" --scheduler mpi -j 1 "$@" "$prog" 2>"$tmp/err"); local rc=$?
  if [ $rc -eq 0 ] && [ "$got" = "$want" ]; then ok
  else bad "cli $name (np $np)" "rc $rc; got: $got
want: $want
$(cat "$tmp/err")"; fi
}
js="db.read_text('data/*.json.gz').map(json.loads)"
check foldby 2 "$js.foldby('name', lambda t, x: t + 1, 0, lambda a, b: a + b, 0).compute()"
check groupby 3 "sorted($js.groupby(lambda r: r['name']).starmap(lambda k, v: (k, len(v))).compute())"
check mean 3 "$js.filter(lambda r: r['name'] == 'Charlie').pluck('transactions').flatten().pluck('amount').mean()"
check computed-then-used 2 "x = db.range(20, npartitions=5).map(lambda i: i * i).compute()
db.from_sequence(x, npartitions=3).filter(lambda v: v % 2).sum()"
check jsonl 2 "$js.pluck('name')" -o jsonl
check dataframe 2 "$js.map(lambda r: {'name': r['name'], 'n': len(r['transactions'])}).to_dataframe().groupby('name').n.sum()"

# A failing function: every rank stops, rank 0 prints the error once, mpirun fails.
prog="db.from_sequence(range(10), npartitions=4).map(lambda x: 1 / (x - 7)).compute()"
want=$("$CBAG" "$prog" 2>&1 | head -1)
mpi 3 "$CBAG" --scheduler mpi "$prog" >out 2>err; rc=$?
n=$(grep -c -F "$want" err)
if [ $rc -ne 0 ] && [ "$n" -eq 1 ] && [ ! -s out ]; then ok
else bad "cli failing function: rc $rc, the error $n times" "$(cat out err)"; fi

# A bad file, likewise.
mpi 2 "$CBAG" --scheduler mpi "db.read_text('data/bad/*.gz').count()" >out 2>err; rc=$?
if [ $rc -ne 0 ] && [ "$(grep -c 'x.gz' err)" -eq 1 ]; then ok
else bad "cli bad file: rc $rc" "$(cat out err)"; fi

# The program on stdin reaches rank 0 only: refused.
echo "1 + 1" | mpi 2 "$CBAG" --scheduler mpi >out 2>err; rc=$?
if [ $rc -ne 0 ] && grep -q "stdin reaches rank 0 only" err; then ok
else bad "cli stdin refused: rc $rc" "$(cat out err)"; fi

# ---------------------------------------------------------------------------
# A rank killed by a signal: Open MPI ends the job (within a minute).
start=$(date +%s)
mpi 3 "$OPS" kill >out 2>err; rc=$?
took=$(( $(date +%s) - start ))
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $took -lt 60 ]; then ok
else bad "a killed rank ends the job: rc $rc after ${took}s" "$(cat out err)"; fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
