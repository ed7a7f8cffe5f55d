#!/bin/bash
# The paper's ablations on Fashion-MNIST (docs/training.md): k in {1, 2, 4},
# k = 4 without the scale branch, k = 4 without the BN skip, seeds 0..2,
# each trained by models/train/fmnist.py. Resumable: every finished run
# appends a line to bench/train/results.jsonl and a rerun skips it.
#
#   bench/train/run.sh [--epochs E] [--seeds "0 1 2"]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$ROOT/scripts/setup.sh"
install_missing dataset-fashion-mnist python3-torch python3-onnx python3-numpy
EPOCHS=3
SEEDS="0 1 2"
while [ $# -gt 0 ]; do
  case "$1" in
    --epochs) EPOCHS="$2"; shift 2 ;;
    --seeds) SEEDS="$2"; shift 2 ;;
    *) echo "usage: bench/train/run.sh [--epochs E] [--seeds \"0 1 2\"]" >&2; exit 2 ;;
  esac
done
RESULTS="$ROOT/bench/train/results.jsonl"
OUT="$BUILD/train"
touch "$RESULTS"
for seed in $SEEDS; do
  for config in k1 k2 k4 k4-noscale k4-noskip; do
    name="$config-s$seed-e$EPOCHS"
    if grep -q "\"dir\": \"[^\"]*/$name\"" "$RESULTS"; then
      echo "==> $name: done"
      continue
    fi
    k="${config%%-*}"; k="${k#k}"
    extra=()
    [[ "$config" == *noscale ]] && extra+=(--no-scale)
    [[ "$config" == *noskip ]] && extra+=(--no-skip)
    echo "==> $name"
    "$PYTHON" "$ROOT/models/train/fmnist.py" --k "$k" --seed "$seed" --epochs "$EPOCHS" \
      "${extra[@]}" --out "$OUT/$name" --results "$RESULTS"
  done
done
