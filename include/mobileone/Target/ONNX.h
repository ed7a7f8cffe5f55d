//===- ONNX.h - ONNX import and export --------------------------*- C++ -*-===//
//
// Import: an ONNX ModelProto (opsets 11..17, as torch.onnx.export writes
// them, BN kept or folded) into a `func.func @main` in the mobileone dialect.
// Every op gets the ONNX node name as its location. Errors are emitted as
// MLIR diagnostics at the node's location and name the node and op type.
//
// Export: a module of deploy-time ops back to a valid ONNX model, with the
// opset, IR version and graph input/output names of the import (recorded as
// attributes) so the exported model is a drop-in replacement.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_TARGET_ONNX_H
#define MOBILEONE_TARGET_ONNX_H

#include "mobileone/Target/Quantization.h"
#include "mlir/IR/BuiltinOps.h"

#include <map>
#include <optional>
#include <string>
#include <vector>
#include "mlir/IR/OwningOpRef.h"

#include <string>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace mlir::mobileone {

struct ONNXImportOptions {
  /// Replaces a symbolic (dynamic) leading batch dimension of graph inputs.
  int64_t batch = 1;
  /// Records a symbolic batch on the function arguments (kONNXBatchAttr), so
  /// that ONNX export can keep it symbolic.
  bool keepSymbolicBatch = true;
  /// `batch` was asked for: a graph input whose static batch differs is an
  /// error rather than ignored.
  bool batchRequested = false;
  /// Shapes for graph inputs by name: their symbolic dimensions (height,
  /// width, ...) become these; a fixed dimension must agree, and so must
  /// `batch` when it was asked for. A name that is no graph input is an
  /// error.
  std::map<std::string, std::vector<int64_t>> inputShapes;
};

/// Reads and imports the ONNX model at `path`. Returns null after emitting
/// a diagnostic on failure.
OwningOpRef<ModuleOp> importONNXFile(MLIRContext *context, StringRef path,
                                     const ONNXImportOptions &options = {});

/// Serialises `module` (its @main, or only function) as an ONNX model to
/// `os`. Fails with a diagnostic naming the op that ONNX export cannot
/// express (for example a `mobileone.block` that was not re-parameterised).
struct ONNXExportOptions {
  /// Store every float constant of 16 or more elements as FLOAT16, widened
  /// by a Cast to FLOAT (the interface and the arithmetic stay float32;
  /// ONNX Runtime folds the casts at load). A weight beyond float16's range
  /// is an error naming it.
  bool fp16Weights = false;
  /// int8: QuantizeLinear / DequantizeLinear pairs (ONNX Runtime's QDQ
  /// format) on every activation and int8 weights, as `int8` says.
  const Int8Quantization *int8 = nullptr;
  /// int8: weights in [-64, 64] at twice the .tflite's scale (its int8
  /// weights halved, rounded half away from zero; biases at the new scale):
  /// ONNX Runtime's u8 x s8 kernels without VNNI add pairs of products in
  /// saturating int16, which 7-bit weights cannot overflow.
  bool reduceRange = false;
  /// The caller no longer reads the module: its weights are freed once
  /// copied into the model, unless one of `liveModules` (other modules of
  /// the context) holds them.
  bool consumeModule = false;
  ArrayRef<Operation *> liveModules;
};
/// The model's bytes in `out` (serialised there: no copy).
LogicalResult exportONNX(ModuleOp module, std::string &out,
                         const ONNXExportOptions &options = {});

/// Attribute names recording the ONNX origin of an imported module.
constexpr const char *kONNXOpsetAttr = "mobileone.onnx_opset";
constexpr const char *kONNXIRVersionAttr = "mobileone.onnx_ir_version";
constexpr const char *kONNXProducerAttr = "mobileone.onnx_producer";
constexpr const char *kONNXNameAttr = "mobileone.onnx_name";
/// On a function argument whose leading dimension was symbolic in the ONNX
/// model: the dimension's name. Export keeps it symbolic where it can.
constexpr const char *kONNXBatchAttr = "mobileone.onnx_batch";
/// On a function argument or result that was FLOAT16 in the ONNX model
/// (computed in float32 here): "float16". ONNX export restores it.
constexpr const char *kONNXTypeAttr = "mobileone.onnx_type";

} // namespace mlir::mobileone

#endif
