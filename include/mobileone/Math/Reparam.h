//===- Reparam.h - re-parameterisation weight math --------------*- C++ -*-===//
//
// Pure arithmetic on convolution kernels, independent of MLIR. Everything is
// computed in double; callers round to f32 once, at the end.
//
// A kernel has the ONNX layout [OC, IC / group, KH, KW] and one bias per
// output channel.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_MATH_REPARAM_H
#define MOBILEONE_MATH_REPARAM_H

#include <cstdint>
#include <vector>

namespace mlir::mobileone::math {

struct Kernel {
  int64_t outChannels = 0;
  int64_t inPerGroup = 0;
  int64_t kh = 0;
  int64_t kw = 0;
  std::vector<double> weight; ///< [outChannels, inPerGroup, kh, kw]
  std::vector<double> bias;   ///< [outChannels]

  Kernel() = default;
  /// A zero kernel (and zero bias) of the given shape.
  Kernel(int64_t outChannels, int64_t inPerGroup, int64_t kh, int64_t kw);

  double &at(int64_t o, int64_t i, int64_t y, int64_t x) {
    return weight[((o * inPerGroup + i) * kh + y) * kw + x];
  }
  double at(int64_t o, int64_t i, int64_t y, int64_t x) const {
    return weight[((o * inPerGroup + i) * kh + y) * kw + x];
  }
};

/// Inference-form batch normalisation parameters, one entry per channel.
struct BatchNorm {
  std::vector<double> scale, bias, mean, variance;
  double epsilon = 1e-5;
};

/// A kernel from f32 weights and an optional f32 bias (empty: zero bias).
Kernel kernelFromF32(int64_t outChannels, int64_t inPerGroup, int64_t kh,
                     int64_t kw, const float *weight, const float *bias);

/// Folds `bn` into the conv `k` that feeds it:
/// s = scale / sqrt(var + eps); W' = W * s; b' = beta + (b - mean) * s.
Kernel foldBatchNorm(const Kernel &k, const BatchNorm &bn);

/// The kernel of an identity mapping for a conv with `channels` in and out
/// channels and `group` groups: 1 at [i, i mod (channels / group), kh/2, kw/2].
/// Requires channels % group == 0 and odd kh, kw (centre well defined).
Kernel identityKernel(int64_t channels, int64_t group, int64_t kh, int64_t kw);

/// Zero-pads `k` symmetrically to kh x kw. Requires kh - k.kh and kw - k.kw
/// to be even and non-negative.
Kernel padKernel(const Kernel &k, int64_t kh, int64_t kw);

/// Adds `other` into `acc`. Requires identical shapes.
void accumulate(Kernel &acc, const Kernel &other);

/// A batch norm as y = x * scale + shift per channel:
/// scale = gamma / sqrt(var + eps), shift = beta - mean * scale.
void batchNormAffine(const BatchNorm &bn, std::vector<double> &scale,
                     std::vector<double> &shift);

/// Rounds to f32 once.
std::vector<float> toF32(const std::vector<double> &values);

} // namespace mlir::mobileone::math

#endif
