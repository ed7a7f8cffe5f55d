#!/usr/bin/env bash
# Installs what is missing, builds, then runs the main job on the embedded
# default model: generate MobileOne-S0 (training time), re-parameterise it,
# and show ops, parameters and multiply-adds before and after, and the
# equivalence of the two models on a seeded input.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

out="$BUILD/demo"
mkdir -p "$out"
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
echo "Models are in $out (MLIR bytecode; view with: mobileone-opt FILE --mlir-elide-elementsattrs-if-larger=8)"
