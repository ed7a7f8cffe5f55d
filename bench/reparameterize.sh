#!/usr/bin/env bash
# Time and peak memory of `mobileone-opt --mobileone-reparameterize` on
# MobileOne S0..S4 at 224x224 (MLIR bytecode in and out), median of N runs.
# Target (issue #2): S4 under 2 s and under 1 GiB.
#   usage: bench/reparameterize.sh [runs]   (default 5)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/setup.sh" >/dev/null
install_missing time
runs=${1:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

printf '\n%-8s %12s %14s %14s %12s %12s\n' variant "params (M)" "train size" "median time" "peak RSS" "vs target"
for v in s0 s1 s2 s3 s4; do
  mobileone-translate --generate=$v --emit-bytecode -o "$work/$v.mlirbc"
  params=$(mobileone-opt "$work/$v.mlirbc" --mobileone-cost-report -o /dev/null | sed -n 's/.*parameters \([0-9.]*\) M.*/\1/p')
  times=() ; peak=0
  for ((i = 0; i < runs; i++)); do
    /usr/bin/time -f '%e %M' -o "$work/time" \
      mobileone-opt "$work/$v.mlirbc" --mobileone-reparameterize --emit-bytecode -o "$work/$v.deploy.mlirbc"
    read -r t m < "$work/time"
    times+=("$t"); [ "$m" -gt "$peak" ] && peak=$m
  done
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  size=$(du -m "$work/$v.mlirbc" | cut -f1)
  ratio=$(awk -v t="$median" -v m="$peak" 'BEGIN {printf "%.2fx / %.2fx", t / 2.0, m / 1048576.0}')
  printf '%-8s %12s %11s MB %12s s %9d MB %12s\n' "$v" "$params" "$size" "$median" $((peak / 1024)) "$ratio"
done
echo "(vs target: median time / 2 s and peak RSS / 1 GiB; below 1x meets the target)"
