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
#include <optional>
#include <string>
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

/// A batch norm as y = x * scale + shift per channel:
/// scale = gamma / sqrt(var + eps), shift = beta - mean * scale.
void batchNormAffine(const BatchNorm &bn, std::vector<double> &scale,
                     std::vector<double> &shift);

/// Rounds to f32 once.
std::vector<float> toF32(const std::vector<double> &values);


//===----------------------------------------------------------------------===//
// Linear maps: the one rule for composing kernels
//===----------------------------------------------------------------------===//

/// How the output pixels of a convolution read its input: channels, groups,
/// kernel, strides, dilations, ONNX pads [top, left, bottom, right], and the
/// input and output spatial sizes (1 x 1 for [N, C] tensors).
struct ConvGeometry {
  int64_t inChannels = 0, outChannels = 0, group = 1;
  int64_t kernel[2] = {1, 1}, strides[2] = {1, 1}, dilations[2] = {1, 1};
  int64_t pads[4] = {0, 0, 0, 0};
  int64_t inSize[2] = {1, 1}, outSize[2] = {1, 1};

  /// Multiply-adds of one batch element.
  int64_t macs() const;
  /// 1 x 1, stride 1, dilation 1: every output pixel reads only its own.
  bool isPointwise() const;
  /// Pointwise, no padding and one channel per group: a per-channel affine.
  bool isChannelwise() const;
  bool operator==(const ConvGeometry &other) const;
};

/// An affine map `y = conv(x) + bias` from a region's input `x` to a value
/// `y`, as one convolution. Every linear op says how it transforms such a
/// map (the mobileone LinearMapOpInterface); the functions below are the
/// only composition rules. Without values (`hasValues` false) they check
/// geometry only, which is what the block verifier needs.
struct LinearMap {
  ConvGeometry geometry;
  bool hasValues = false;
  /// [outChannels, inChannels / group, KH, KW] and the bias, when hasValues.
  Kernel kernel;
  /// Per output channel, the sum of the magnitudes of the terms added into
  /// the bias: a bias is zero when it is small against the largest of them
  /// (f32 rounding of a bias that cancels, as DBB's pad-with-bias writes it).
  std::vector<double> biasMagnitude;
  /// The region input itself: no op applied yet.
  bool isIdentity = false;
  /// Multiply-adds of the composed ops run one after another (per batch
  /// element): what fusing must not exceed.
  int64_t sequenceMacs = 0;

  /// Whether every bias entry is zero up to f32 rounding of the bias terms.
  bool biasIsZero() const;
  /// Frees the weights once no composition reads them; geometry and costs
  /// stay.
  void dropValues() {
    hasValues = false;
    kernel = Kernel();
    biasMagnitude = {};
  }
};

/// The identity map of a [N, channels, h, w] value (a depthwise 1x1 conv of
/// ones).
LinearMap identityMap(int64_t channels, int64_t h, int64_t w, bool withValues);

/// A convolution's own map; `kernel` is used when `withValues`.
LinearMap convMap(const ConvGeometry &geometry, Kernel kernel,
                  bool withValues);

/// A zero map of the given geometry (a block's target conv).
LinearMap zeroMap(const ConvGeometry &geometry, bool withValues);

/// `scale * m + shift` per output channel (either may be null: 1 and 0).
LinearMap scaleAndShift(LinearMap m, const std::vector<double> *scale,
                        const std::vector<double> *shift);

/// `a + sign * b` of two maps of one input: kernels placed in the union of
/// their windows, groups merged to the common coarser grouping. Fails (with
/// the reason in `why`) if they differ in channels, sizes, strides, or
/// their windows are not on one dilation lattice.
std::optional<LinearMap> sum(const LinearMap &a, const LinearMap &b,
                             double sign, std::string &why);

/// `next` applied to the output of `m` (a sequence). Exact only if `next`
/// does not zero-pad a value whose border the composed conv cannot
/// reproduce. The result may cost more multiply-adds than the sequence
/// (`sequenceMacs`): a sum may still pay for it (DBB's 1x1 -> avg pool
/// branch inside a kxk block); structure recovery decides.
std::optional<LinearMap> compose(const LinearMap &m, const LinearMap &next,
                                 std::string &why);

/// Zero padding of the output of `m` by `pads` (ONNX order, H and W).
/// Exact only for a pointwise `m` whose bias is zero.
std::optional<LinearMap> zeroPad(const LinearMap &m, const int64_t pads[4],
                                 std::string &why);

/// `m` re-expressed in the geometry of `target` (a block's conv): the same
/// strides and dilations, a window inside the target's, and a grouping the
/// target's divides. Fails with the reason otherwise.
std::optional<LinearMap> fitInto(const LinearMap &m,
                                 const ConvGeometry &target, std::string &why);

} // namespace mlir::mobileone::math

#endif
