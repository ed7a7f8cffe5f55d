//===- Passes.h - mobileone conversions -------------------------*- C++ -*-===//

#ifndef MOBILEONE_CONVERSION_PASSES_H
#define MOBILEONE_CONVERSION_PASSES_H

#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::mobileone {

#define GEN_PASS_DECL
#include "mobileone/Conversion/Passes.h.inc"

/// Makes `module` (lowered to TOSA) runnable by `mlir-cpu-runner`: renames
/// its entry function to @model and adds a @main that calls it on the seeded
/// random input `mobileone-run --seed` uses and prints every result with
/// `printMemrefF32`.
/// Patterns that sink layout transposes through layout-free ops and cancel
/// them (run by convert-mobileone-to-tosa after lowering).
void populateLayoutCleanupPatterns(RewritePatternSet &patterns);

/// Adds a @main that calls the entry function on seeded random inputs
/// (input i from `inputs[i]` where that is given and not empty) and prints
/// its results in order.
LogicalResult addRunnerHarness(ModuleOp module, uint64_t seed,
                               ArrayRef<std::vector<float>> inputs = {});

#define GEN_PASS_REGISTRATION
#include "mobileone/Conversion/Passes.h.inc"

} // namespace mlir::mobileone

#endif
