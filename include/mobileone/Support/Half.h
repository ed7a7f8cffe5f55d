//===- Half.h - IEEE binary16 conversion --------------------------*- C++ -*-===//
//
// float <-> half (IEEE 754 binary16) in portable C++, exact: toHalf rounds
// to nearest, ties to even (as F16C's vcvtps2ph with rounding mode 0 and
// numpy's astype(float16)); values past 65504 become infinity. Used by the
// compiler's fp16 writers and the runtime's loader (which widens FLOAT16
// weights once, at load). Dependency-free.
//
//===----------------------------------------------------------------------===//

#ifndef MOBILEONE_SUPPORT_HALF_H
#define MOBILEONE_SUPPORT_HALF_H

#include <cstdint>
#include <cstring>

namespace mlir::mobileone {

inline uint16_t toHalf(float value) {
  uint32_t f;
  std::memcpy(&f, &value, 4);
  const uint32_t sign = (f >> 16) & 0x8000u;
  const uint32_t absF = f & 0x7FFFFFFFu;
  if (absF >= 0x7F800000u) // Inf or NaN (NaN stays a quiet NaN)
    return uint16_t(sign | 0x7C00u | (absF > 0x7F800000u ? 0x200u : 0u));
  if (absF >= 0x477FF000u) // rounds to 65536 or more: infinity
    return uint16_t(sign | 0x7C00u);
  if (absF < 0x38800000u) { // a half subnormal (or zero)
    if (absF < 0x33000000u) // below half the smallest subnormal: zero
      return uint16_t(sign);
    // The mantissa with its implicit bit, shifted to units of 2^-24.
    uint32_t mant = (absF & 0x7FFFFFu) | 0x800000u;
    int shift = 126 - int(absF >> 23); // 14..24
    uint32_t q = mant >> shift, rem = mant & ((1u << shift) - 1),
             half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1)))
      ++q;
    return uint16_t(sign | q);
  }
  // Normal: rebias the exponent, round the 13 dropped mantissa bits.
  uint32_t h = ((absF - 0x38000000u) >> 13);
  uint32_t rem = absF & 0x1FFFu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1)))
    ++h; // may carry into the exponent, up to infinity: correct
  return uint16_t(sign | h);
}

inline float fromHalf(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1Fu, mant = h & 0x3FFu, f;
  if (exp == 0x1F) {
    f = sign | 0x7F800000u | (mant << 13);
  } else if (exp != 0) {
    f = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    f = sign;
  } else { // subnormal: normalise
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while (!(mant & 0x400u));
    f = sign | (uint32_t(112 - e) << 23) | ((mant & 0x3FFu) << 13);
  }
  float value;
  std::memcpy(&value, &f, 4);
  return value;
}

} // namespace mlir::mobileone

#endif
