#!/usr/bin/env bash
# Installs what is missing, builds, then runs the main job on the embedded
# default model: generate MobileOne-S0 (training time), re-parameterise it,
# show ops, parameters and multiply-adds before and after and the
# equivalence of the two models; then compile it to a TFLite FlatBuffer, run
# that with our runtime and compare its latency with ONNX Runtime's on the
# same deployed model.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
install_missing python3-numpy
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

echo "==> mobileone-run s0.tflite (XNNPACK, $threads threads) against the training-time model"
mobileone-run "$out/s0-train.mlirbc" --seed 3 --save-input "$out/input.npy" --output "$out/expected.npy" >/dev/null
"$PYTHON" -c "import numpy as np, sys; np.save(sys.argv[2], np.ascontiguousarray(np.load(sys.argv[1]).transpose(0, 2, 3, 1)))" \
  "$out/input.npy" "$out/input-nhwc.npy"
mobileone-run "$out/s0.tflite" --input "$out/input-nhwc.npy" --output "$out/output.npy" \
  --threads "$threads" --bench 50 | tee "$out/run.txt"
"$PYTHON" "$ROOT/test/Integration/compare_outputs.py" "$out/output.npy" "$out/expected.npy" \
  --label "equivalence (s0.tflite vs training-time model)"

ort_ms=$(NODE_PATH="$BUILD/node/node_modules" node "$ROOT/bench/ort_bench.js" "$out/s0-deploy.onnx" \
  "$threads" 50 1,3,224,224 | "$PYTHON" -c "import json, statistics, sys; print('%.3f' % statistics.median(json.load(sys.stdin)))")
ours_ms=$(sed -n 's/.*median \([0-9.]*\) ms.*/\1/p' "$out/run.txt")
backend=$(sed -n 's/.*: backend \([^,]*\),.*/\1/p' "$out/run.txt")
echo
printf '==> latency, MobileOne-S0 at 224x224, batch 1, %d threads (median of 50 runs)\n' "$threads"
printf '    mobileone-run (%s): %8.3f ms\n' "$backend" "$ours_ms"
printf '    ONNX Runtime %s (same model): %8.3f ms\n' "$ORT_VERSION" "$ort_ms"
awk -v a="$ours_ms" -v b="$ort_ms" 'BEGIN {printf "    ratio ours / ONNX Runtime:      %8.2f\n", a / b}'
echo
echo "Models are in $out (view MLIR with: mobileone-opt FILE --mlir-elide-elementsattrs-if-larger=8 --mlir-elide-resource-strings-if-larger=64)"
