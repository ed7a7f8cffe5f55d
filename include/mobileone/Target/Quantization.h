//===- Quantization.h - one int8 quantisation for every format --*- C++ -*-===//

#ifndef MOBILEONE_TARGET_QUANTIZATION_H
#define MOBILEONE_TARGET_QUANTIZATION_H

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mlir::mobileone {

/// What int8 quantisation decided for a deployed module, keyed by the name
/// of the op computing each tensor (its NameLoc, the ONNX node name): the
/// TFLite target fills it as it quantises, the ONNX exporter writes the
/// same quantisation as QDQ, so the int8 .tflite and the QDQ .onnx are one
/// model.
struct QdqParams {
  float scale = 1.0f;
  int32_t zeroPoint = 0;
};
/// A convolution's or linear layer's int8 weights, ONNX layout ([OC, IC/g,
/// KH, KW] or [OC, IC]), symmetric per output channel, and int32 bias at
/// input scale x weight scale.
struct QdqWeights {
  std::vector<int64_t> shape;
  std::vector<int8_t> weights;
  std::vector<float> weightScales;
  std::vector<int32_t> bias;
  std::vector<float> biasScales;
  /// A depthwise convolution ([C x M, 1, KH, KW], group C).
  bool depthwise = false;
};
struct QdqLayer {
  QdqWeights kernel;
  /// An identity tap kept out of the kernel (IdentitySplit.h): the taps as
  /// a 1x1 depthwise convolution, and the int8 tensors of the two terms.
  std::optional<QdqWeights> taps;
  QdqParams kernelOutput, tapsOutput;
};
struct Int8Quantization {
  /// Each int8 activation by the name of the op computing it (after the
  /// activation TFLite fused into it; a graph input's int8 form by the
  /// input's name; the two terms of a split kernel as "<op>/kernel" and
  /// "<op>/identity").
  std::map<std::string, QdqParams> activations;
  std::map<std::string, QdqLayer> layers;
  /// The name each op's int8 output has in the .tflite (without its
  /// "/int8" suffix: a graph output's name), by op name.
  std::map<std::string, std::string> tensors;
};

} // namespace mlir::mobileone

#endif
