//===- Passes.h - mobileone conversions -------------------------*- C++ -*-===//

#ifndef MOBILEONE_CONVERSION_PASSES_H
#define MOBILEONE_CONVERSION_PASSES_H

#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
class ConversionTarget;
} // namespace mlir

namespace mlir::mobileone {

#define GEN_PASS_DECL
#include "mobileone/Conversion/Passes.h.inc"

/// The lowering to TOSA as a DialectConversion: one pattern per op of the
/// mobileone dialect (each gives its TOSA ops or says at the op why the
/// target cannot express it), and weights to tosa.const.
void populateMobileOneToTosaPatterns(RewritePatternSet &patterns,
                                     bool forTFLite);
/// What the lowering's output may hold: TOSA and func; for TFLite
/// (`forTFLite`) also the mobileone ops TFLite has builtins for (GELU,
/// HARD_SWISH, LEAKY_RELU, SQRT, SOFTMAX on the last axis).
void configureMobileOneToTosaTarget(ConversionTarget &target, bool forTFLite);

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
