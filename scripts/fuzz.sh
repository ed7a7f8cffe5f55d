#!/usr/bin/env bash
# Explores with libFuzzer: each fuzz target (fuzz/) for SECONDS (default 60),
# built with clang, AddressSanitizer and UndefinedBehaviorSanitizer in
# build-fuzz/, starting from the seed corpus fuzz/corpus/<target>. New
# corpus entries go to build-fuzz/corpus/<target> (not the repository); a
# crash, leak, sanitizer report or hang is written to fuzz/crashes/<target>/,
# where the suite replays it from then on (test/Fuzz/replay.test): fix the
# bug and commit the file.
#
# usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   targets: onnx-import mlir-input tflite-run npy (default: all)
# Ends with one line per target: executions, corpus size, crashes.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
install_missing clang-19 libclang-rt-19-dev

seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(onnx-import mlir-input tflite-run npy)

FUZZ_BUILD="$ROOT/build-fuzz"
if [ ! -f "$FUZZ_BUILD/build.ninja" ]; then
  echo "==> configuring $FUZZ_BUILD (clang-19, libFuzzer)"
  cmake -G Ninja -S "$ROOT" -B "$FUZZ_BUILD" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
    -DMLIR_DIR="$LLVM_PREFIX/lib/cmake/mlir" \
    -DLLVM_EXTERNAL_LIT="$LIT" -DMOBILEONE_FUZZ_ENGINE=libfuzzer >/dev/null
fi
echo "==> building the fuzz targets"
ninja -C "$FUZZ_BUILD" "${targets[@]/#/fuzz-}"

summary=()
for t in "${targets[@]}"; do
  corpus="$FUZZ_BUILD/corpus/$t"
  crashes="$ROOT/fuzz/crashes/$t"
  mkdir -p "$corpus" "$crashes"
  log="$FUZZ_BUILD/fuzz-$t.log"
  echo "==> fuzz-$t for ${seconds}s (log: $log)"
  status=0
  # -timeout: a run over 20 s is a hang; -rss_limit_mb: the suite's budget.
  "$FUZZ_BUILD/bin/fuzz-$t" "$corpus" "$ROOT/fuzz/corpus/$t" \
    -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$crashes/" \
    >"$log" 2>&1 || status=$?
  execs=$(grep -E "^stat::number_of_executed_units" "$log" | awk '{print $2}' || true)
  summary+=("fuzz-$t: ${execs:-?} executions in ${seconds}s, corpus $(ls "$corpus" | wc -l), exit $status")
  [ "$status" -eq 0 ] || tail -40 "$log"
done
printf '%s\n' "${summary[@]}"
