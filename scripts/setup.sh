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
)
# Test peers: PyTorch exports the fixtures and is the reference; ONNX Runtime
# (npm) runs the exported models.
# Arm NN's TfLite parser on CpuRef is the independent TFLite consumer.
TEST_PACKAGES=(python3-torch python3-onnx python3-numpy libonnx-testdata
  python3-pyarmnn libarmnn-cpuref-backend22 libarmnntfliteparser22)
ORT_VERSION=1.30.0
TFJS_TFLITE_VERSION=0.0.1-alpha.10

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

# ONNX Runtime for Node into build/node. Its install script would download GPU
# files: skip it, the CPU binaries ship inside the package.
install_onnxruntime() {
  local dir="$BUILD/node"
  # Node.js may come from Debian (nodejs + npm) or elsewhere with npm inside.
  command -v node >/dev/null && command -v npm >/dev/null || install_missing nodejs npm
  if [ -f "$dir/node_modules/onnxruntime-node/package.json" ] &&
     grep -q "\"version\": \"$ORT_VERSION\"" "$dir/node_modules/onnxruntime-node/package.json"; then
    return 0
  fi
  echo "==> installing onnxruntime-node@$ORT_VERSION (npm)"
  mkdir -p "$dir"
  (cd "$dir" && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --silent \
     "onnxruntime-node@$ORT_VERSION" >/dev/null)
}

# TensorFlow Lite's own interpreter (WASM) for Node into build/node: the
# oracle of the .tflite tests (test/Integration/TFLite/tfjs_tflite_run.js).
install_tfjs_tflite() {
  local dir="$BUILD/node"
  if [ -f "$dir/node_modules/@tensorflow/tfjs-tflite/package.json" ] &&
     grep -q "\"version\": \"$TFJS_TFLITE_VERSION\"" \
       "$dir/node_modules/@tensorflow/tfjs-tflite/package.json"; then
    return 0
  fi
  echo "==> installing @tensorflow/tfjs-tflite@$TFJS_TFLITE_VERSION (npm)"
  mkdir -p "$dir"
  (cd "$dir" && npm install --no-audit --no-fund --silent \
     "@tensorflow/tfjs-tflite@$TFJS_TFLITE_VERSION" >/dev/null)
}

install_missing "${PACKAGES[@]}"
build
export PATH="$BUILD/bin:$PATH"
