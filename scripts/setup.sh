#!/usr/bin/env bash
# Installs what is missing (Debian packages), configures and builds into
# build/. Sourced by demo.sh and test.sh; safe and fast to run again.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build"
LLVM_PREFIX=/usr/lib/llvm-19
LIT="$LLVM_PREFIX/build/utils/lit/lit.py"
# The pyenv python3 on PATH cannot import Debian's python packages.
PYTHON=/usr/bin/python3

PACKAGES=(
  cmake ninja-build g++ python3
  llvm-19-dev llvm-19-tools libmlir-19-dev mlir-19-tools
  libgtest-dev
  libonnx-dev libprotobuf-dev protobuf-compiler
  libflatbuffers-dev flatbuffers-compiler
  libxnnpack-dev libpthreadpool-dev
  pybind11-dev python3-dev python3-numpy
)
# Test peers: PyTorch exports the fixtures and is the reference; ONNX Runtime
# (npm) runs the exported models.
# Arm NN's TfLite parser on CpuRef is the independent TFLite consumer.
TEST_PACKAGES=(python3-torch python3-onnx python3-numpy python3-pytest libonnx-testdata dataset-fashion-mnist
  python3-pyarmnn libarmnn-cpuref-backend22 libarmnntfliteparser22
  chromium python3-matplotlib)
ORT_VERSION=1.30.0
TFJS_TFLITE_VERSION=0.0.1-alpha.10
PLAYWRIGHT_VERSION=1.65.1

install_missing() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() {
  if [ ! -f "$BUILD/build.ninja" ]; then
    echo "==> configuring"
    cmake -G Ninja -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
      -DMLIR_DIR="$LLVM_PREFIX/lib/cmake/mlir" \
      -DLLVM_EXTERNAL_LIT="$LIT" >/dev/null
  fi
  echo "==> building"
  ninja -C "$BUILD"
}

# An npm package at an exact version into build/node (where the tests' Node
# scripts find it through NODE_PATH), unless it is there already.
install_npm() {
  local name="$1" version="$2" dir="$BUILD/node"
  # Node.js may come from Debian (nodejs + npm) or elsewhere with npm inside.
  command -v node >/dev/null && command -v npm >/dev/null || install_missing nodejs npm
  if [ -f "$dir/node_modules/$name/package.json" ] &&
     grep -q "\"version\": \"$version\"" "$dir/node_modules/$name/package.json"; then
    return 0
  fi
  echo "==> installing $name@$version (npm)"
  mkdir -p "$dir"
  (cd "$dir" && npm install --no-audit --no-fund --silent "$name@$version" >/dev/null)
}

# ONNX Runtime for Node. Its install script would download GPU files: skip
# it, the CPU binaries ship inside the package.
install_onnxruntime() {
  ONNXRUNTIME_NODE_INSTALL=skip install_npm onnxruntime-node "$ORT_VERSION"
}

# TensorFlow Lite's own interpreter (WASM): the oracle of the .tflite tests
# (test/Integration/TFLite/tfjs_tflite_run.js).
install_tfjs_tflite() {
  install_npm @tensorflow/tfjs-tflite "$TFJS_TFLITE_VERSION"
}

# Drives Debian's Chromium (TEST_PACKAGES) in the --report browser test
# (test/Integration/Report/browser_check.js); downloads no browser itself.
install_playwright() {
  install_npm playwright-core "$PLAYWRIGHT_VERSION"
}

install_missing "${PACKAGES[@]}"
build
export PATH="$BUILD/bin:$PATH"
