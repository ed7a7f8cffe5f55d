#!/usr/bin/env bash
# Per-operator time of our runtime next to ONNX Runtime's on the same
# deployed model (see bench/profile.py for options), e.g.
#   bench/profile.sh                                  # S3, 1 thread
#   bench/profile.sh --variants s0 s4 --threads 1 2
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/setup.sh" >/dev/null
install_missing "${TEST_PACKAGES[@]}"
install_onnxruntime
exec "$PYTHON" "$ROOT/bench/profile.py" "$BUILD" "$@"
