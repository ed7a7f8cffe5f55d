//===- HalfTest.cpp - IEEE binary16 conversion against the hardware -------===//
//
// Support/Half.h against F16C's vcvtps2ph / vcvtph2ps (where the CPU has
// it): every half widens to the same float, and floats sampled over every
// exponent (plus the rounding boundaries) narrow to the same half.
//
//===----------------------------------------------------------------------===//

#include "mobileone/Support/Half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <immintrin.h>

using namespace mlir::mobileone;

namespace {

__attribute__((target("f16c"))) uint16_t hardwareToHalf(float f) {
  return _cvtss_sh(f, 0);
}
__attribute__((target("f16c"))) float hardwareFromHalf(uint16_t h) {
  return _cvtsh_ss(h);
}

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

} // namespace

TEST(Half, KnownValues) {
  EXPECT_EQ(toHalf(0.0f), 0x0000);
  EXPECT_EQ(toHalf(-0.0f), 0x8000);
  EXPECT_EQ(toHalf(1.0f), 0x3C00);
  EXPECT_EQ(toHalf(-2.0f), 0xC000);
  EXPECT_EQ(toHalf(65504.0f), 0x7BFF);
  EXPECT_EQ(toHalf(65520.0f), 0x7C00); // rounds up past the largest: inf
  EXPECT_EQ(toHalf(0x1.0p-24f), 0x0001); // smallest subnormal
  EXPECT_EQ(toHalf(0x1.0p-25f), 0x0000); // a tie: to even (zero)
  EXPECT_EQ(toHalf(1.0f + 0x1.0p-11f), 0x3C00); // a tie: to even
  EXPECT_EQ(toHalf(1.0f + 0x1.8p-11f), 0x3C01);
  EXPECT_TRUE(std::isnan(fromHalf(toHalf(NAN))));
  EXPECT_EQ(fromHalf(0x3555), 0.333251953125f);
}

TEST(Half, MatchesF16C) {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("f16c"))
    GTEST_SKIP() << "no F16C on this CPU";
  for (uint32_t h = 0; h < 65536; ++h) {
    float ours = fromHalf(uint16_t(h)), hw = hardwareFromHalf(uint16_t(h));
    if (std::isnan(hw))
      EXPECT_TRUE(std::isnan(ours)) << h;
    else
      EXPECT_EQ(bits(ours), bits(hw)) << h;
  }
  // Every 97th float bit pattern: all exponents, both signs.
  long mismatches = 0;
  for (uint64_t i = 0; i < (uint64_t(1) << 32); i += 97) {
    float f;
    uint32_t u = uint32_t(i);
    std::memcpy(&f, &u, 4);
    if (!std::isnan(f) && toHalf(f) != hardwareToHalf(f))
      ++mismatches;
  }
  EXPECT_EQ(mismatches, 0);
}
