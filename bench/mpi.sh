#!/usr/bin/env bash
# bench/mpi.sh [DATA_DIR]: the tutorial's queries (bench/queries.c: Q1 the
# mean of Alice's transaction counts, Q2 the mean of her flattened amounts,
# Q3 groupby, Q4 and Q5 foldby) under `mpirun -np 2` with one thread per
# rank against the threads scheduler with 2 workers, each the median of 3
# runs (they alternate, so load from elsewhere hits both). Prints a
# markdown table: wall time of the whole process (mpirun's start-up
# included) and the compute alone (queries --time: from cbag_open's return
# to the result), with the mpi / threads ratios. The results must be the
# same. DATA_DIR (default /tmp/mpi-bench-data) is made with
# `cbag prep accounts` when missing.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-$root/build/release}
Q=$B/bench/queries
data=${1:-/tmp/mpi-bench-data}
command -v mpirun >/dev/null || { echo "bench/mpi.sh: no mpirun (apt-get install openmpi-bin)" >&2; exit 1; }
[ -x "$Q" ] && [ -x "$B/cbag" ] || make -C "$root" -j2 "${B#"$root"/}/cbag" "${B#"$root"/}/bench/queries" >/dev/null || exit 1
[ -d "$data" ] || "$B/cbag" prep accounts --dir "$data" >/dev/null || exit 1

# One machine: shared memory only, no network probing at start-up, and a
# rank waiting in a collective yields its core.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader OMPI_MCA_mpi_yield_when_idle=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
glob="$data/*.json.gz"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

now() { date +%s.%N; }
median() { sort -g | sed -n 2p; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b / a }'; }

# run NAME CMD...: appends "wall compute" to $tmp/NAME, keeps stdout
run() {
  local name=$1; shift
  local t0 t1
  t0=$(now)
  "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || { cat "$tmp/$name.err" >&2; return 1; }
  t1=$(now)
  local c; c=$(sed -n 's/^seconds //p' "$tmp/$name.err")
  echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') $c" >>"$tmp/$name"
}

echo "| query | threads, 2 workers: wall (s) | mpirun -np 2, 1 thread each: wall (s) | ratio | threads: compute (s) | mpi: compute (s) | ratio |"
echo "|---|---|---|---|---|---|---|"
status=0
for q in Q1 Q2 Q3 Q4 Q5; do
  rm -f "$tmp/t" "$tmp/m"
  for i in 1 2 3; do
    run t "$Q" "$q" "$glob" --workers 2 --time || exit 1
    run m mpirun --oversubscribe -np 2 "$Q" "$q" "$glob" --workers 1 --scheduler mpi --time || exit 1
  done
  if ! cmp -s "$tmp/t.out" "$tmp/m.out"; then
    echo "bench/mpi.sh: $q: mpi and threads give different results" >&2
    status=1
  fi
  tw=$(cut -d' ' -f1 "$tmp/t" | median); mw=$(cut -d' ' -f1 "$tmp/m" | median)
  tc=$(cut -d' ' -f2 "$tmp/t" | median); mc=$(cut -d' ' -f2 "$tmp/m" | median)
  echo "| $q | $tw | $mw | $(ratio "$tw" "$mw") | $tc | $mc | $(ratio "$tc" "$mc") |"
done
echo
echo "$(nproc) cores, $(ls "$data"/*.json.gz | wc -l) files ($(du -sh "$data" | cut -f1)); load average $(cut -d' ' -f1-3 /proc/loadavg); Open MPI $(mpirun --version | sed -n 's/.*Open MPI) //p')"
exit $status
