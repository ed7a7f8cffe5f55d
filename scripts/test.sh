#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test suite: the lit suite
# (dialect, passes, tools, whole-model integration) and the GoogleTest unit
# tests (run through lit). Ends with one line: "N passed, M failed".
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
install_missing "${TEST_PACKAGES[@]}"
install_onnxruntime
install_tfjs_tflite
install_playwright

log="$BUILD/test-results.txt"
status=0
"$PYTHON" "$LIT" -v "$BUILD/test" "$BUILD/test/Unit" 2>&1 | tee "$log" || status=$?

count() { # sum of the lit summary lines named in $@
  local n=0 k
  for label in "$@"; do
    # lit pads the labels ("Passed  :") when a longer one is present.
    k=$(grep -E "^ *$label *: *[0-9]+" "$log" | awk -F: '{gsub(/ /,"",$2); split($2,a,"("); s+=a[1]} END {print s+0}')
    n=$((n + k))
  done
  echo "$n"
}
passed=$(count "Passed" "Expectedly Failed")
failed=$(count "Failed" "Unresolved" "Timed Out" "Unexpectedly Passed")
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1 # lit itself failed (configuration error)
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
