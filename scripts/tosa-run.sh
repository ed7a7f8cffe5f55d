#!/usr/bin/env bash
# Runs a TOSA module written by `mobileone-compile --target=tosa` with
# upstream MLIR 19 alone: adds a @main that feeds it an input and prints its
# outputs (`mobileone-translate --tosa-runner-harness`), lowers that with
# mlir-opt-19 (the pipeline in scripts/tosa-pipeline.txt, the one the tests
# use) and runs it with mlir-cpu-runner-19. The outputs are printed as
# printMemrefF32 prints them (test/Integration/compare_outputs.py reads it).
#
#   scripts/tosa-run.sh model.mlirbc [--input x.npy|x.npz] [--seed S]
#
# Without --input, the seeded input of `mobileone-run --seed S` (default 0).
# x.npy is the first input in the ONNX model's layout (NCHW); x.npz holds one
# array per input name.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  exit $(( $# < 1 ? 2 : 0 ))
fi
model="$1"; shift
translate="$(command -v mobileone-translate || echo "$here/../build/bin/mobileone-translate")"
for tool in /usr/bin/mlir-opt-19 /usr/bin/mlir-cpu-runner-19 "$translate"; do
  [ -x "$tool" ] || { echo "tosa-run.sh: $tool is missing (scripts/setup.sh installs and builds it)" >&2; exit 1; }
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$translate" --tosa-runner-harness "$model" "$@" --emit-bytecode -o "$work/harness.mlirbc"
/usr/bin/mlir-opt-19 "--pass-pipeline=$(cat "$here/tosa-pipeline.txt")" "$work/harness.mlirbc" -o "$work/lowered.mlir"
/usr/bin/mlir-cpu-runner-19 -e main -entry-point-result=void \
  -shared-libs=/usr/lib/llvm-19/lib/libmlir_runner_utils.so,/usr/lib/llvm-19/lib/libmlir_c_runner_utils.so \
  "$work/lowered.mlir"
