#!/usr/bin/env bash
# Latency table of issue #5 (see bench/latency.py for options), e.g.
#   bench/latency.sh                       # S0..S4, 9 rounds
#   bench/latency.sh --variants s0 --rounds 5
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/setup.sh" >/dev/null
install_missing "${TEST_PACKAGES[@]}"
install_onnxruntime
exec "$PYTHON" "$ROOT/bench/latency.py" "$BUILD" "$@"
