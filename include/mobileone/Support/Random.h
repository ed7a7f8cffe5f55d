//===- Random.h - the one seeded generator of every tool --------*- C++ -*-===//
//
// splitmix64: small, seedable and identical on every platform (unlike the
// standard library's distributions). The seeded inputs of `mobileone-run
// --seed`, the evaluator's randomTensor (and so `mobileone-compile --check`
// and the TOSA runner harness) and the model generator's weights all come
// from here; plain C++, no dependencies.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_SUPPORT_RANDOM_H
#define MOBILEONE_SUPPORT_RANDOM_H

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace mlir::mobileone {

class SplitMix64 {
public:
  /// The state the seeded inputs start from; the model generator starts
  /// from `seed * golden + 1` (`offset` 1).
  static constexpr uint64_t kInputOffset = 0x632BE59BD9B4E019ull;
  explicit SplitMix64(uint64_t seed, uint64_t offset = kInputOffset)
      : state(seed * kGolden + offset) {}

  uint64_t next() {
    uint64_t z = (state += kGolden);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, 1), 53 bits.
  double unit() { return (next() >> 11) * 0x1.0p-53; }
  /// Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * unit(); }
  /// Standard normal (Box-Muller): the tools' seeded inputs.
  double standardNormal() {
    double u1 = std::max(unit(), 0x1.0p-53), u2 = unit();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  /// Normal with `stddev` (Box-Muller on uniform(2^-53, 1)): the model
  /// generator's weights.
  double normal(double stddev) {
    double u1 = uniform(0x1.0p-53, 1.0), u2 = uniform(0.0, 1.0);
    return stddev * std::sqrt(-2.0 * std::log(u1)) *
           std::cos(6.283185307179586 * u2);
  }
  /// `n` seeded input values.
  void fillStandardNormal(float *out, size_t n) {
    for (size_t i = 0; i < n; ++i)
      out[i] = static_cast<float>(standardNormal());
  }

private:
  static constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;
  uint64_t state;
};

} // namespace mlir::mobileone

#endif
