//===- QuantizedTest.cpp - the int8 kernels' fixed-point arithmetic --------===//
//
// The requantisation every int8 kernel ends with, pinned to TFLite's
// definitions: QuantizeMultiplier's Q31 form and saturation, and single
// rounding of the exact product, half up (so -1.5 rounds to -1).
//
//===----------------------------------------------------------------------===//

#include "Quantized.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace mobileone::runtime;

TEST(Quantized, MultiplierIsQ31WithShift) {
  int32_t m;
  int shift;
  quantizeMultiplier(0.5, m, shift);
  EXPECT_EQ(m, 1 << 30);
  EXPECT_EQ(shift, 0);
  quantizeMultiplier(3.0, m, shift); // 0.75 * 2^2
  EXPECT_EQ(m, 3 << 29);
  EXPECT_EQ(shift, 2);
  quantizeMultiplier(0.0, m, shift);
  EXPECT_EQ(m, 0);
  // A fraction that rounds up to 1.0 becomes 0.5 with one more shift.
  quantizeMultiplier(std::nextafter(1.0, 0.0), m, shift);
  EXPECT_EQ(m, 1 << 30);
  EXPECT_EQ(shift, 1);
  // TFLite's saturation at both ends.
  quantizeMultiplier(std::ldexp(1.0, -40), m, shift);
  EXPECT_EQ(m, 0);
  EXPECT_EQ(shift, 0);
  quantizeMultiplier(std::ldexp(1.0, 40), m, shift);
  EXPECT_EQ(m, INT32_MAX);
  EXPECT_EQ(shift, 30);
}

TEST(Quantized, SingleRoundingHalfUp) {
  int32_t m;
  int shift;
  quantizeMultiplier(0.5, m, shift);
  EXPECT_EQ(multiplyByQuantizedMultiplier(3, m, shift), 2);   // 1.5 -> 2
  EXPECT_EQ(multiplyByQuantizedMultiplier(-3, m, shift), -1); // -1.5 -> -1
  EXPECT_EQ(multiplyByQuantizedMultiplier(5, m, shift), 3);   // 2.5 -> 3
  EXPECT_EQ(multiplyByQuantizedMultiplier(-5, m, shift), -2); // -2.5 -> -2
}

TEST(Quantized, MatchesTheRealProductRoundedOnce) {
  // For random accumulators and multipliers the result is floor(x * q / 2^(31
  // - shift) + 1/2), the exact product rounded once.
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int32_t> acc(-(1 << 24), 1 << 24);
  std::uniform_real_distribution<double> exponent(-20.0, 4.0);
  for (int i = 0; i < 100000; ++i) {
    int32_t m;
    int shift;
    quantizeMultiplier(std::exp2(exponent(rng)), m, shift);
    const int32_t x = acc(rng);
    const long double exact =
        std::ldexp((long double)x * m, shift - 31);
    const int64_t want = int64_t(std::floor(exact + 0.5L));
    if (want < INT32_MIN || want > INT32_MAX)
      continue;
    ASSERT_EQ(multiplyByQuantizedMultiplier(x, m, shift), want)
        << "x " << x << " m " << m << " shift " << shift;
  }
}
