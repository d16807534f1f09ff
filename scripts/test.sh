#!/usr/bin/env bash
# The test command: installs what is missing, then builds and runs every
# test three times (plain -O2, ASan+UBSan, the threaded tests under TSan),
# the cbag command's tests, the remote-data tests against local HTTP and
# S3 servers (tests/remote/run.sh), the mpi scheduler's under mpirun (Open
# MPI is in the test dependencies), the differential tests against
# dask.bag, and each libFuzzer target for a few seconds on its committed
# corpus (FUZZ_SMOKE_SECONDS, default 8). The last line is the total,
# "N passed, N failed", for CI.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build test || exit 1
jobs=$(nproc 2>/dev/null || echo 2)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
run() { # a make target whose last line is "N passed, N failed"
  echo "== make $*"
  make -j"$jobs" --no-print-directory "$@" 2>&1 | tee -a "$log" | grep -v '^\(cc\|clang\|ar\) '
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
}
run test
run test-asan
run test-tsan
run test-cli
run test-remote
run test-mpi
run diff
run fuzz-smoke
pass=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
fail=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$log" | awk '{s+=$1} END {print s+0}')
[ $status -ne 0 ] && [ "$fail" -eq 0 ] && fail=1   # a build or script failure
echo "$pass passed, $fail failed"
exit $status
