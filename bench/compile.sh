#!/usr/bin/env bash
# Time and peak memory of `mobileone-compile model.onnx -o deploy.onnx`
# (import, structure recovery, re-parameterisation, export) on PyTorch
# exports of MobileOne at 224x224, median of N runs.
# Target (issue #3): S4 under 2 s and under 1 GiB. Then the same for the
# real PyTorch 2.11 exports in test/Integration/Torch2/Inputs (opset 17 and
# 20, external data); target (front-door issue): under 1 s and 1 GiB.
#   usage: bench/compile.sh [runs] [variants...]   (default 5; s0 s4)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/setup.sh" >/dev/null
install_missing time python3-torch python3-onnx python3-numpy
runs=${1:-5}; shift || true
variants=("$@")
[ ${#variants[@]} -eq 0 ] && variants=(s0 s4)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# measure MODEL OUTPUT: `runs` compiles (summary in $work/summary); sets
# `median` (seconds) and `peak` (the largest peak RSS, KiB).
measure() {
  local times=() t m i
  peak=0
  for ((i = 0; i < runs; i++)); do
    /usr/bin/time -f '%e %M' -o "$work/time" \
      mobileone-compile "$1" -o "$2" > "$work/summary"
    read -r t m < "$work/time"
    times+=("$t"); [ "$m" -gt "$peak" ] && peak=$m
  done
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
}

printf '\n%-8s %-9s %10s %12s %12s %12s %14s\n' variant mode "onnx size" "median time" "peak RSS" "vs target" "params (M)"
for v in "${variants[@]}"; do
  for mode in eval preserve; do
    "$PYTHON" "$ROOT/test/Integration/ONNX/make_fixture.py" "$v" "$mode" 14 224 "$work/$v-$mode" 2>/dev/null
    measure "$work/$v-$mode/model.onnx" "$work/deploy.onnx"
    size=$(du -m "$work/$v-$mode/model.onnx" | cut -f1)
    params=$(sed -n 's/.*parameters: *\(.*\)/\1/p' "$work/summary")
    ratio=$(awk -v t="$median" -v m="$peak" 'BEGIN {printf "%.2fx/%.2fx", t / 2.0, m / 1048576.0}')
    printf '%-8s %-9s %7s MB %10s s %9d MB %12s %14s\n' "$v" "$mode" "$size" "$median" $((peak / 1024)) "$ratio" "$params"
  done
done
echo "(vs target: median time / 2 s and peak RSS / 1 GiB; below 1x meets the target)"

# A large training-time export: RepVGG-D2's layout (timm repvgg_d2se without
# its SE), BN kept, 525 MB. Target (typed-core issue): peak RSS <= 2.5x the
# model's size, to either format.
"$PYTHON" "$ROOT/test/Integration/ONNX/make_fixture.py" repvgg_d2 preserve 14 224 "$work/d2" >/dev/null 2>&1
d2size=$(stat -c %s "$work/d2/model.onnx")
printf '\n%-22s %-8s %10s %12s %12s %14s\n' "large export" output "onnx size" "median time" "peak RSS" "peak / size"
for out in onnx tflite; do
  measure "$work/d2/model.onnx" "$work/deploy.$out"
  ratio=$(awk -v m="$peak" -v s="$d2size" 'BEGIN {printf "%.2fx", m * 1024 / s}')
  printf '%-22s %-8s %7d MB %10s s %9d MB %14s\n' repvgg_d2-preserve ".$out" \
    $((d2size / 1048576)) "$median" $((peak / 1024)) "$ratio"
done
echo "(peak / size: peak RSS over the .onnx file's size; target <= 2.5x)"
rm -rf "$work/d2"

printf '\n%-30s %10s %12s %12s %12s\n' "PyTorch 2.11 export" "size" "median time" "peak RSS" "vs target"
for model in "$ROOT"/test/Integration/Torch2/Inputs/*.onnx; do
  measure "$model" "$work/deploy.onnx"
  files=("$model"); [ -f "$model.data" ] && files+=("$model.data")
  size=$(du -cm "${files[@]}" | tail -1 | cut -f1)
  ratio=$(awk -v t="$median" -v m="$peak" 'BEGIN {printf "%.2fx/%.2fx", t / 1.0, m / 1048576.0}')
  printf '%-30s %7s MB %10s s %9d MB %12s\n' "$(basename "$model" .onnx)" "$size" "$median" $((peak / 1024)) "$ratio"
done
echo "(vs target: median time / 1 s and peak RSS / 1 GiB)"
