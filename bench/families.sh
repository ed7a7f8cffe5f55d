#!/usr/bin/env bash
# Latency of FastViT-T8, RepGhostNet and RepViT, deployed: our runtime vs
# ONNX Runtime, 1 and 2 threads (see bench/families.py), e.g.
#   bench/families.sh --rounds 5 --runs 30
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/setup.sh" >/dev/null
install_missing "${TEST_PACKAGES[@]}"
install_onnxruntime
exec "$PYTHON" "$ROOT/bench/families.py" "$BUILD" "$@"
