//===- Quantized.h - int8 operators: load-time checks, reference kernels -===//
//
// TFLite's int8 scheme (tensorflow/lite/kernels/internal/reference/
// integer_ops): activations per-tensor affine int8, weights symmetric int8
// per output channel, biases int32 at input scale x weight scale, results
// requantised by a fixed-point multiplier and shift with TFLite's rounding
// (`multiplyByQuantizedMultiplier`, single rounding). Elementwise functions of one int8
// input are 256-entry tables computed at load from the float function.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_LIB_RUNTIME_QUANTIZED_H
#define MOBILEONE_LIB_RUNTIME_QUANTIZED_H

#include <cstdint>
#include <string>
#include <vector>

namespace mobileone::runtime {

struct Model;
struct Op;

/// TFLite's QuantizeMultiplier: `real` as a Q31 multiplier and a power-of-
/// two shift (left if positive), saturated as TFLite does for very small and
/// very large values.
void quantizeMultiplier(double real, int32_t &multiplier, int &shift);
/// TFLite's MultiplyByQuantizedMultiplier (TFLITE_SINGLE_ROUNDING): x * real
/// rounded once, half up, for the (multiplier, shift) of quantizeMultiplier.
int32_t multiplyByQuantizedMultiplier(int32_t x, int32_t multiplier,
                                      int shift);

/// TFLite's AffineQuantize of one value (QUANTIZE from float32): v / scale
/// rounded half away from zero, plus the zero point, saturated; NaN becomes
/// the zero point.
int8_t quantizeToInt8(float v, float scale, int32_t zero);

/// A number for messages: "3.5e-05", "0.0625", "nan".
std::string numberText(double v);

/// What an int8 operator needs at run time, derived at load.
struct QuantizedParams {
  /// Zero points of the activation inputs (up to two) and the output.
  int32_t inputZero[2] = {0, 0};
  int32_t outputZero = 0;
  /// The output requantisation: one per output channel (convolutions), or
  /// one.
  std::vector<int32_t> multiplier;
  std::vector<int> shift;
  /// ADD / SUB: each input's multiplier onto the common scale.
  int32_t inputMultiplier[2] = {0, 0};
  int inputShift[2] = {0, 0};
  /// The fused activation's clamp, in output integers.
  int32_t activationMin = -128, activationMax = 127;
  /// Elementwise functions: the output for input q at table[q + 128].
  std::vector<int8_t> table;
  /// QUANTIZE from float: the output scale; DEQUANTIZE: the input's.
  float scale = 1.0f;
  /// PADV2's value, MEAN's element count.
  int32_t value = 0;
};

/// True if `op` reads or writes an INT8 tensor (it then runs on the int8
/// kernels). QUANTIZE and DEQUANTIZE of activations always do.
bool isQuantizedOp(const Model &model, const Op &op);

/// Checks the tensor types and quantisation of the int8 operator `op` (its
/// shapes and attributes already checked) and fills op.quant. On failure,
/// `why` says what was expected.
bool prepareQuantizedOp(const Model &model, Op &op, std::string &why);

/// Runs an int8 operator: `in[i]` is operand i's data, `out` the output's.
void runQuantizedOp(const Model &model, const Op &op,
                    const std::vector<const void *> &in, void *out);

struct Tensor;
/// The data movement of the float reference kernels (Reference.cpp) on
/// int8: x padded with `value` (`before[d]` elements ahead of dimension d),
/// and SLICE / TRANSPOSE / TILE.
void padInt8(const Tensor &x, const int8_t *in, const Tensor &y,
             const std::vector<int64_t> &before, int8_t value, int8_t *out);
/// RESIZE_NEAREST_NEIGHBOR on int8 values (the float kernel's pixels).
void resizeNearestInt8(const Tensor &x, const int8_t *in, const Tensor &y,
                       const Op &op, int8_t *out);
/// RESIZE_NEAREST_NEIGHBOR's source index along one axis of `inLen`
/// elements for each of the `outLen` outputs (what resizeNearestInt8 reads).
std::vector<int64_t> nearestSources(const Op &op, int64_t inLen,
                                    int64_t outLen);
void gatherInt8(const Tensor &x, const int8_t *in, const Tensor &y,
                const Op &op, int8_t *out);

} // namespace mobileone::runtime

#endif
