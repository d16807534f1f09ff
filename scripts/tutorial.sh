#!/usr/bin/env bash
# The main job: installs what is missing, builds cbag, generates the
# tutorial's accounts data in ./data (if missing) and runs every cell.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
make -j"$(nproc 2>/dev/null || echo 2)" --no-print-directory all >/dev/null
exec build/release/examples/tutorial --data "${CBAG_DATA:-data}" "$@"
