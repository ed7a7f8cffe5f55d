#!/usr/bin/env bash
# Installs what is missing, builds, then runs the main job on the embedded
# default model: generate MobileOne-S0 (training time), re-parameterise it,
# show ops, parameters and multiply-adds before and after and the
# equivalence of the two models; then compile it to a TFLite FlatBuffer, run
# that with our runtime and compare its latency with ONNX Runtime's on the
# same deployed model. Last, the MobileOne trained on Fashion-MNIST
# (models/trained): its top-1 on the test set before and after compiling,
# and the latency of each.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
install_missing python3-numpy python3-torch dataset-fashion-mnist
install_onnxruntime

out="$BUILD/demo"
mkdir -p "$out"
threads=$(( $(nproc) < 2 ? 1 : 2 ))
echo
echo "==> mobileone-translate --generate=s0 (training-time MobileOne-S0, 224x224, random BN statistics)"
mobileone-translate --generate=s0 --emit-bytecode -o "$out/s0-train.mlirbc"
echo "==> mobileone-opt --mobileone-reparameterize"
mobileone-opt "$out/s0-train.mlirbc" \
  --mobileone-cost-report=label=before \
  --mobileone-reparameterize \
  --mobileone-cost-report=label=after \
  --emit-bytecode -o "$out/s0-deploy.mlirbc"
echo "==> mobileone-run train --compare deploy (seeded random input)"
mobileone-run "$out/s0-train.mlirbc" --compare "$out/s0-deploy.mlirbc" --rtol 1e-5

echo
echo "==> deployable outputs: TFLite FlatBuffer and re-parameterised ONNX"
mobileone-translate --emit-tflite "$out/s0-deploy.mlirbc" -o "$out/s0.tflite"
mobileone-translate --export-onnx "$out/s0-deploy.mlirbc" -o "$out/s0-deploy.onnx"
ls -l "$out/s0.tflite" "$out/s0-deploy.onnx" | awk '{print "   ", $5, "bytes", $NF}'

echo "==> mobileone-run s0.tflite ($threads threads) against the training-time model"
mobileone-run "$out/s0-train.mlirbc" --seed 3 --save-input "$out/input.npy" --output "$out/expected.npy" >/dev/null
"$PYTHON" -c "import numpy as np, sys; np.save(sys.argv[2], np.ascontiguousarray(np.load(sys.argv[1]).transpose(0, 2, 3, 1)))" \
  "$out/input.npy" "$out/input-nhwc.npy"
mobileone-run "$out/s0.tflite" --input "$out/input-nhwc.npy" --output "$out/output.npy" \
  --threads "$threads" --bench 50 | tee "$out/run.txt"
"$PYTHON" "$ROOT/test/Integration/compare_outputs.py" "$out/output.npy" "$out/expected.npy" \
  --label "equivalence (s0.tflite vs training-time model)"

# Latency: 5 rounds, each timing both runtimes back to back (30 runs each),
# the one going first alternating; this shared machine's noise moves single
# runs by 5-10%, so the ratio is the median of the rounds' ratios.
ours_ms=() ort_ms=()
for round in 1 2 3 4 5; do
  for runner in ours ort; do
    [ $((round % 2)) = 0 ] && runner=$([ "$runner" = ours ] && echo ort || echo ours)
    if [ "$runner" = ours ]; then
      ours_ms+=("$(mobileone-run "$out/s0.tflite" --threads "$threads" --bench 30 |
        sed -n 's/^latency_ms median=\([0-9.]*\).*/\1/p')")
    else
      ort_ms+=("$(NODE_PATH="$BUILD/node/node_modules" node "$ROOT/bench/ort_bench.js" \
        "$out/s0-deploy.onnx" "$threads" 30 1,3,224,224 |
        "$PYTHON" -c "import json, statistics, sys; print('%.3f' % statistics.median(json.load(sys.stdin)))")")
    fi
  done
done
backend=$(sed -n 's/.*: backend \([^,]*\),.*/\1/p' "$out/run.txt")
echo
printf '==> latency, MobileOne-S0 at 224x224, batch 1, %d threads (5 interleaved rounds of 30 runs)\n' "$threads"
"$PYTHON" - "$backend" "$ORT_VERSION" "${ours_ms[*]}" "${ort_ms[*]}" <<'PY'
import statistics, sys
backend, version = sys.argv[1], sys.argv[2]
ours, ort = [float(v) for v in sys.argv[3].split()], [float(v) for v in sys.argv[4].split()]
ratios = [a / b for a, b in zip(ours, ort)]
print(f"    mobileone-run ({backend}): {statistics.median(ours):8.3f} ms")
print(f"    ONNX Runtime {version} (same model): {statistics.median(ort):8.3f} ms")
print(f"    ratio ours / ONNX Runtime:      {statistics.median(ratios):8.2f}"
      f"  (rounds {min(ratios):.2f}-{max(ratios):.2f})")
PY
echo
echo "==> a trained model: models/trained/fashion_mobileone.onnx (MobileOne, k = 4, trained on Fashion-MNIST)"
mobileone-compile "$ROOT/models/trained/fashion_mobileone.onnx" -o "$out/fashion.tflite" | sed -n '1,3p;/conv2d:/p'
MOBILEONE_BUILD="$BUILD" "$PYTHON" "$ROOT/models/trained/top1.py" "$ROOT/models/trained/fashion_mobileone.onnx" --bench-runs 200

echo
echo "Models are in $out (view MLIR with: mobileone-opt FILE --mlir-elide-elementsattrs-if-larger=8 --mlir-elide-resource-strings-if-larger=64)"
