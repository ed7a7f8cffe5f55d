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

#include "mobileone/Target/Quantization.h"
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
  /// behind a QUANTIZE and a DEQUANTIZE, or are int8
  /// (TFLiteOptions::int8Interface).
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

/// A convolution whose kernel holds an identity tap (a folded identity or
/// BN-skip branch: the centre tap of channel c reading channel c), and what
/// keeping that tap out of the kernel is worth in int8: the kernel's weight
/// SQNR (per-channel int8 rounding noise against the weights) with the tap
/// in and out, and what the extra DEPTHWISE_CONV_2D 1x1 and ADD cost, as a
/// fraction of the model's estimated int8 time.
struct IdentitySplit {
  std::string layer;
  double sqnrIn = 0.0, sqnrOut = 0.0;
  double cost = 0.0;
  bool chosen = false;
  /// Why not, when not chosen.
  std::string reason;
};

/// How int8 deployment folds: the choices `--int8-fold` makes.
struct Int8Folding {
  /// Consider keeping identity taps out of kernels (`auto`); `all` folds
  /// everything (fastest).
  bool splitIdentity = false;
  /// The latency the splits may add, as a fraction of the model's
  /// estimated int8 time.
  double maxSlowdown = 0.10;
  /// The estimate's int8 roofline: multiply-adds (as the int8 kernels
  /// reach) and bytes per second and a fixed cost per operator.
  double macsPerSecond = 42e9, bytesPerSecond = 40e9, opSeconds = 1e-6;
  /// What a split's two extra operators (a 1x1 depthwise and an ADD, both
  /// requantising every element) cost per element of the map, in the int8
  /// GEMM's multiply-adds: 64 on the AVX2 kernels (1.4 ns against 42 G
  /// multiply-adds/s), 180 on VNNI ones (0.9 ns against 200 G/s), measured.
  double splitMacs = 64.0;
  /// Layers (op names, as the summary and the report name them) left in
  /// float32 between a DEQUANTIZE and a QUANTIZE (`--keep-float`); their
  /// identity taps are not split. A name that matches no layer is an error.
  std::vector<std::string> keepFloat;
  /// Layers of `keepFloat` whose weights are stored float16 (widened by a
  /// DEQUANTIZE, as --precision fp16 does): float32 arithmetic for half the
  /// bytes (--keep-float auto's choices).
  std::vector<std::string> halfWeights;
  /// Bias correction: each int8 convolution's and fully connected layer's
  /// float bias, before it is quantised, minus the mean error its int8
  /// weights make on the calibration set (the weights' rounding error times
  /// each input channel's mean).
  bool biasCorrection = true;
  /// Cross-layer equalisation (lib/Target/TFLite/Equalize.h): each
  /// convolution whose ReLU feeds only convolutions computes its channels
  /// rescaled to use the int8 range evenly, its readers' weights absorbing
  /// the scales. Changes the module's weights (the same function).
  bool equalize = false;
};

/// One int8 convolution or fully connected layer as quantised: what
/// `--keep-float auto` weighs (the SQNR its input and output tensors have,
/// what running it in float32 would cost).
struct Int8Layer {
  /// The op's name (what --keep-float takes); its input and output tensor
  /// names, as the int8 error measurement names them.
  std::string layer, input, output;
  double macs = 0.0;
  int64_t weights = 0, inputElements = 0, outputElements = 0;
};

/// What --precision int8 decided, for the summary and the report.
struct QuantizationSummary {
  /// Every convolution with an identity tap worth considering, chosen or
  /// not, in model order.
  std::vector<IdentitySplit> identitySplits;
  /// Input channels of 1x1 convolutions and fully connected layers that were
  /// constant over the calibration set to within 1/16 of a quantisation step,
  /// folded into the layer's bias (layer name, channels).
  std::vector<std::pair<std::string, int>> foldedChannels;
  /// The float32 model that was calibrated (FlatBuffer bytes): what the int8
  /// one is measured against.
  std::string floatModel;
  /// The quantisation, by op name, for the other formats (QDQ ONNX).
  Int8Quantization int8;
  /// The convolutions Int8Folding::equalize rescaled, by name.
  std::vector<std::string> equalized;
  /// The layers Int8Folding::keepFloat kept in float32.
  std::vector<std::string> keptFloat;
  /// Every int8 convolution and fully connected layer, in model order.
  std::vector<Int8Layer> layers;
  /// The model's estimated int8 time (seconds) on the folding's roofline,
  /// which Int8Folding::maxSlowdown is a fraction of.
  double int8Seconds = 0.0;
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
  /// INT8: the quantisation-aware choices of how to fold.
  Int8Folding folding;
  /// INT8: int8 graph inputs and outputs (each with its scale and zero
  /// point; --io-dtype int8) instead of float32 ones; int32 outputs stay.
  bool int8Interface = false;
  /// The caller no longer reads the module: it is lowered in place, and the
  /// weights the lowering replaces, then (once in the FlatBuffer) all of its
  /// weights, are freed unless one of `liveModules` (other modules of the
  /// context, e.g. copies kept for a check) holds them. Otherwise the
  /// lowering works on a copy, whose own weights are freed at the end.
  bool consumeModule = false;
  ArrayRef<Operation *> liveModules;
};

/// The model's bytes in `out` (built there: no copy). Fails with an error
/// naming the op that the TFLite target cannot express.
LogicalResult emitTFLite(ModuleOp module, std::string &out,
                         const TFLiteOptions &options = {});

} // namespace mlir::mobileone

#endif
