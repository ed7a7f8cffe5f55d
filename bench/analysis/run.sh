#!/usr/bin/env bash
# The MobileOne paper's latency analysis on this machine (docs/analysis.md):
#   bench/analysis/run.sh [OUT_DIR] [--small] [--rounds R] [--runs N] [--threads T]
# OUT_DIR defaults to build/analysis. See bench/analysis/analysis.py.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/setup.sh" >/dev/null
install_missing "${TEST_PACKAGES[@]}"
install_onnxruntime
out="$BUILD/analysis"
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  out="$1"
  shift
fi
exec "$PYTHON" "$ROOT/bench/analysis/analysis.py" "$BUILD" "$out" "$@"
