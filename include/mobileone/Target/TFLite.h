//===- TFLite.h - TFLite-compatible FlatBuffer emission ---------*- C++ -*-===//
//
// Writes a deploy-time module (after --mobileone-reparameterize) as a
// TFLite model: file identifier TFL3, schema version 3, float32, NHWC
// activations (the graph input is NHWC too), one subgraph. The schema subset
// is include/mobileone/Target/TFLite/schema.fbs, compiled by flatc at build
// time. The output is deterministic: the same module gives the same bytes.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_TARGET_TFLITE_H
#define MOBILEONE_TARGET_TFLITE_H

#include "mlir/IR/BuiltinOps.h"

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace mlir::mobileone {

/// The precision of the weights a .tflite stores.
enum class WeightPrecision {
  FP32,
  /// TFLite's float16 quantisation: every float constant of 16 or more
  /// elements is stored as FLOAT16 and widened by a DEQUANTIZE operator
  /// (half the file; activations and arithmetic stay float32). A weight
  /// that does not fit fp16 (|w| > 65504) is an error naming it.
  FP16,
};

struct TFLiteOptions {
  WeightPrecision weights = WeightPrecision::FP32;
};

/// Fails with an error naming the op that the TFLite target cannot express.
LogicalResult emitTFLite(ModuleOp module, llvm::raw_ostream &os,
                         const TFLiteOptions &options = {});

} // namespace mlir::mobileone

#endif
