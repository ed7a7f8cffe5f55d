//===- Resize.cpp - resize coordinate arithmetic --------------------------===//

#include "mobileone/Math/Resize.h"

#include <algorithm>
#include <cmath>

namespace math = mlir::mobileone::math;
using namespace math;

std::optional<ResizeMode> math::parseResizeMode(std::string_view s) {
  if (s == "nearest")
    return ResizeMode::Nearest;
  if (s == "linear")
    return ResizeMode::Linear;
  return std::nullopt;
}

std::optional<ResizeCoordinates>
math::parseResizeCoordinates(std::string_view s) {
  if (s == "asymmetric")
    return ResizeCoordinates::Asymmetric;
  if (s == "half_pixel")
    return ResizeCoordinates::HalfPixel;
  if (s == "pytorch_half_pixel")
    return ResizeCoordinates::PytorchHalfPixel;
  if (s == "align_corners")
    return ResizeCoordinates::AlignCorners;
  return std::nullopt;
}

std::optional<NearestRounding> math::parseNearestRounding(std::string_view s) {
  if (s == "round_prefer_floor")
    return NearestRounding::RoundPreferFloor;
  if (s == "round_prefer_ceil")
    return NearestRounding::RoundPreferCeil;
  if (s == "floor")
    return NearestRounding::Floor;
  if (s == "ceil")
    return NearestRounding::Ceil;
  return std::nullopt;
}

double math::resizeSource(ResizeCoordinates c, int64_t o, int64_t in,
                          int64_t out, double scale) {
  switch (c) {
  case ResizeCoordinates::Asymmetric:
    return double(o) / scale;
  case ResizeCoordinates::PytorchHalfPixel:
    if (out <= 1)
      return 0.0;
    [[fallthrough]];
  case ResizeCoordinates::HalfPixel:
    return (double(o) + 0.5) / scale - 0.5;
  case ResizeCoordinates::AlignCorners: {
    // ONNX's resized length is in * scale, not rounded down to out.
    double length = double(in) * scale;
    return out <= 1 || length <= 1 ? 0.0
                                   : double(o) * double(in - 1) / (length - 1);
  }
  }
  return 0.0;
}

int64_t math::nearestIndex(NearestRounding r, double x, int64_t in) {
  double v = 0;
  switch (r) {
  case NearestRounding::RoundPreferFloor:
    v = std::ceil(x - 0.5);
    break;
  case NearestRounding::RoundPreferCeil:
    v = std::floor(x + 0.5);
    break;
  case NearestRounding::Floor:
    v = std::floor(x);
    break;
  case NearestRounding::Ceil:
    v = std::ceil(x);
    break;
  }
  return std::clamp<int64_t>(int64_t(std::clamp(v, -1.0, double(in))), 0,
                             in - 1);
}

namespace {

/// `scale` as p / q with q <= 4096, exact to float precision (the model's
/// scales are float32).
std::optional<std::pair<int64_t, int64_t>> ratio(double scale) {
  if (!(scale > 0) || !std::isfinite(scale) || scale > 4096)
    return std::nullopt;
  for (int64_t q = 1; q <= 4096; ++q) {
    double p = std::round(scale * double(q));
    if (p >= 1 && float(p / double(q)) == float(scale))
      return std::pair<int64_t, int64_t>(int64_t(p), q);
  }
  return std::nullopt;
}

} // namespace

std::optional<RationalResize>
math::rationalResize(ResizeMode mode, ResizeCoordinates c,
                     NearestRounding rounding, int64_t in, int64_t out,
                     double scale) {
  RationalResize r;
  if (in <= 1 || out <= 1) {
    // Every source index clamps to 0 (in == 1), or only o = 0 is read and
    // its coordinate is 0 or as below with o = 0.
    if (in <= 1 || c == ResizeCoordinates::AlignCorners ||
        c == ResizeCoordinates::PytorchHalfPixel)
      return RationalResize{1, 1, 0};
  }
  // Use out / in when it is the scale (sizes given): exact whatever its
  // size; otherwise the scale's own ratio.
  std::pair<int64_t, int64_t> pq = {out, in};
  if (float(double(out) / double(in)) != float(scale)) {
    std::optional<std::pair<int64_t, int64_t>> s = ratio(scale);
    if (!s)
      return std::nullopt;
    pq = *s;
  }
  auto [p, q] = pq;
  if (c == ResizeCoordinates::AlignCorners) {
    // o (in - 1) / (in p / q - 1): the resized length is in * scale.
    if (in * p - q <= 0)
      return RationalResize{1, 1, 0};
    r = {in * p - q, (in - 1) * q, 0};
  } else if (c == ResizeCoordinates::Asymmetric) {
    r = {p, q, 0}; // o * q / p
  } else {
    r = {2 * p, 2 * q, q - p}; // ((o + 1/2) q - p / 2) / p
  }
  if (mode == ResizeMode::Linear ||
      rounding == NearestRounding::RoundPreferCeil)
    return r; // TOSA's nearest is floor(v + 1/2)
  // floor(v + 1/2) of (2y + k) / 2n for y = o * d + offset:
  //   floor:              k = -n      -> floor(y / n)
  //   ceil:               k = n - 2   -> floor((y + n - 1) / n) = ceil(y / n)
  //   round_prefer_floor: k = -1      -> ceil(y / n - 1/2)
  int64_t k = rounding == NearestRounding::Floor ? -r.n
              : rounding == NearestRounding::Ceil ? r.n - 2
                                                  : -1;
  return RationalResize{2 * r.n, 2 * r.d, 2 * r.offset + k};
}

bool math::sameSource(RationalResize a, RationalResize b) {
  // (o d_a + off_a) / n_a == (o d_b + off_b) / n_b for every o: affine in o,
  // so equal slopes and intercepts.
  return a.d * b.n == b.d * a.n && a.offset * b.n == b.offset * a.n;
}

int64_t math::resizeBorder(RationalResize r, int64_t in, int64_t out) {
  return (out - 1) * r.d - (in - 1) * r.n + r.offset;
}
