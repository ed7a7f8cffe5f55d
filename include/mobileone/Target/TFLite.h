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

#include <functional>
#include <string>
#include <vector>

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
  /// TFLite's int8 scheme: weights int8 symmetric per output channel,
  /// biases int32, activations int8 per tensor from calibrated ranges
  /// (TFLiteOptions::calibrate); the graph's inputs and outputs stay float32
  /// behind a QUANTIZE and a DEQUANTIZE.
  INT8,
};

/// The values a float32 tensor took over a calibration set: overall, and
/// per channel (its last dimension).
struct TensorRange {
  float min = 0.0f, max = 0.0f;
  bool seen = false;
  std::vector<float> channelMin, channelMax;
  std::vector<double> channelSum;
  /// Values seen per channel.
  int64_t channelCount = 0;
};

/// What --precision int8 decided, for the summary and the report.
struct QuantizationSummary {
  /// Input channels of 1x1 convolutions and fully connected layers that were
  /// constant over the calibration set to within 1/16 of a quantisation step,
  /// folded into the layer's bias (layer name, channels).
  std::vector<std::pair<std::string, int>> foldedChannels;
  /// The float32 model that was calibrated (FlatBuffer bytes): what the int8
  /// one is measured against.
  std::string floatModel;
};

struct TFLiteOptions {
  WeightPrecision weights = WeightPrecision::FP32;
  /// Keep the ONNX model's NCHW interface (transposes inside the model)
  /// instead of TFLite's NHWC.
  bool nchwInterface = false;
  /// INT8 only: runs the float32 model `model` (FlatBuffer bytes) on the
  /// calibration set and gives the range of each float32 tensor, by tensor
  /// index; on failure it has reported why.
  std::function<LogicalResult(ArrayRef<uint8_t> model,
                              std::vector<TensorRange> &ranges)>
      calibrate;
  /// INT8: filled with what the quantisation decided, if set.
  QuantizationSummary *summary = nullptr;
};

/// Fails with an error naming the op that the TFLite target cannot express.
LogicalResult emitTFLite(ModuleOp module, llvm::raw_ostream &os,
                         const TFLiteOptions &options = {});

} // namespace mlir::mobileone

#endif
