//===- Resize.h - what ONNX Resize, TOSA resize and TFLite resize mean ---*- C++ -*-===//
//
// One place for the coordinate arithmetic of resizing, independent of MLIR:
// the evaluator computes ONNX's definition (resizeSource, nearestIndex), the
// TOSA lowering writes its exact integer form (rationalResize), and the
// TFLite emitter maps that form back to RESIZE_NEAREST_NEIGHBOR or
// RESIZE_BILINEAR flags only where the two agree on every output pixel
// (sameSource).
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_MATH_RESIZE_H
#define MOBILEONE_MATH_RESIZE_H

#include <cstdint>
#include <optional>
#include <string_view>

namespace mlir::mobileone::math {

enum class ResizeMode { Nearest, Linear };
enum class ResizeCoordinates {
  Asymmetric,
  HalfPixel,
  PytorchHalfPixel,
  AlignCorners,
};
enum class NearestRounding { RoundPreferFloor, RoundPreferCeil, Floor, Ceil };

/// The ONNX attribute spellings; nullopt for anything else.
std::optional<ResizeMode> parseResizeMode(std::string_view s);
std::optional<ResizeCoordinates> parseResizeCoordinates(std::string_view s);
std::optional<NearestRounding> parseNearestRounding(std::string_view s);

/// The source coordinate ONNX Resize reads for output index `o` of a
/// dimension resized from `in` to `out` with `scale` (out / in, or the
/// model's scale).
double resizeSource(ResizeCoordinates c, int64_t o, int64_t in, int64_t out,
                    double scale);
/// `x` rounded by `r` and clamped to [0, in - 1].
int64_t nearestIndex(NearestRounding r, double x, int64_t in);

/// TOSA's form of one dimension: the source coordinate of output `o` is
/// `(o * d + offset) / n`; nearest rounds it half up (floor(v + 1/2)),
/// linear interpolates, both clamp to the input.
struct RationalResize {
  int64_t n = 1, d = 1, offset = 0;
};

/// The rational form of ONNX's mapping, with the nearest rounding folded
/// into the offset (so that TOSA's half-up rounding gives `rounding`);
/// nullopt if `scale` is not a ratio of integers up to 4096 (TOSA needs
/// one). `rounding` is ignored for linear.
std::optional<RationalResize> rationalResize(ResizeMode mode,
                                             ResizeCoordinates c,
                                             NearestRounding rounding,
                                             int64_t in, int64_t out,
                                             double scale);

/// Whether two forms read the same source coordinate for every output.
bool sameSource(RationalResize a, RationalResize b);

/// TOSA's output size for the form and `border`: `((in - 1) * n - offset +
/// border) / d + 1`; the border that gives `out`.
int64_t resizeBorder(RationalResize r, int64_t in, int64_t out);

} // namespace mlir::mobileone::math

#endif
