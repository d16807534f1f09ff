#!/usr/bin/env bash
# The main job: installs what is missing, builds cbag, generates the
# tutorial's accounts data in ./data (if missing) and runs every cell of the
# notebook through the cbag command (`cbag tutorial`), printing code, result
# and wall time per cell. examples/tutorial.c is the same in C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
make -j"$(nproc 2>/dev/null || echo 2)" --no-print-directory all >/dev/null
exec build/release/cbag tutorial --data "${CBAG_DATA:-data}" "$@"
