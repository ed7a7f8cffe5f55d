#!/usr/bin/env bash
# Regenerates docs/generated/ (dialect and pass reference) from the ODS files.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh" >/dev/null
ninja -C "$BUILD" mlir-doc >/dev/null
mkdir -p "$ROOT/docs/generated"
cp "$BUILD/docs/Dialects/MobileOneOps.md" "$ROOT/docs/generated/MobileOneDialect.md"
cp "$BUILD/docs/MobileOnePasses.md" "$ROOT/docs/generated/MobileOnePasses.md"
cp "$BUILD/docs/MobileOneConversionPasses.md" "$ROOT/docs/generated/MobileOneConversionPasses.md"
cp "$BUILD/docs/Interfaces/LinearMapInterface.md" "$ROOT/docs/generated/LinearMapInterface.md"
echo "docs/generated updated"
