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
)

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

install_missing "${PACKAGES[@]}"
build
export PATH="$BUILD/bin:$PATH"
