//===- KernelsAvx512.cpp - the convolution kernels for AVX-512F -----------===//
//
// KernelsImpl.h instantiated with 16-lane zmm vectors: 32 registers, a
// 9 x 3-vector GEMM tile (27 accumulators), depthwise steps of three rows.
// Entered only after the run-time check in Kernels.cpp.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include <immintrin.h>
#include <pthreadpool.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#pragma GCC push_options
#pragma GCC target("avx512f,fma")

namespace {

struct Avx512 {
  using V = __m512;
  using Mask = __mmask16;
  static constexpr int kLanes = 16;
  static constexpr int kAccumulators = 28;
  // 9 x 3 vectors (27 accumulators): on Zen 5, S1 7% and S4 5% faster than
  // 14 x 2 (S0 level) and than 7 x 4, in alternating-order runs.
  static constexpr int kTileRows = 9;
  static constexpr int kPanelVectors = 3;
  // Three rows (12 sums in flight): S0's stride-1 depthwise layers 6-9%
  // faster than two on Zen 5.
  static constexpr int kDepthwiseRows = 3;
  static constexpr int kDirectGroupVectors = 4;
  static constexpr int kKxKPixels = 8;

  static V load(const float *p) { return _mm512_load_ps(p); }
  static V loadu(const float *p) { return _mm512_loadu_ps(p); }
  static V loadMasked(const float *p, Mask m) {
    return _mm512_maskz_loadu_ps(m, p);
  }
  static void storeu(float *p, V v) { _mm512_storeu_ps(p, v); }
  static void storeMasked(float *p, Mask m, V v) {
    _mm512_mask_storeu_ps(p, m, v);
  }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V zero() { return _mm512_setzero_ps(); }
  static V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V min(V a, V b) { return _mm512_min_ps(a, b); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
  static Mask tail(int lanes) {
    return lanes >= 16 ? Mask(0xffff) : Mask((1u << lanes) - 1);
  }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V div(V a, V b) { return _mm512_div_ps(a, b); }
  static V fnmadd(V a, V b, V c) { return _mm512_fnmadd_ps(a, b, c); }
  /// |x|, and |mag| with the sign of `sign` (AVX-512F has no float
  /// and/or: through the integer lanes).
  static V abs(V x) { return _mm512_abs_ps(x); }
  static V copySign(V mag, V sign) {
    const __m512i s = _mm512_set1_epi32(int(0x80000000u));
    return _mm512_castsi512_ps(_mm512_or_si512(
        _mm512_castps_si512(abs(mag)),
        _mm512_and_si512(_mm512_castps_si512(sign), s)));
  }
  static V round(V x) {
    return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT |
                                       _MM_FROUND_NO_EXC);
  }
  /// 2^n for integral n in [-126, 127].
  static V pow2i(V n) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(
        _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23));
  }

};

} // namespace

#include "KernelsImpl.h"

std::unique_ptr<mobileone::runtime::kernels::Kernel>
mobileone::runtime::kernels::detail::createAvx512(KernelKind kind,
                                                const ConvShape &s,
                                                const float *w,
                                                const float *b) {
  return createFor<Avx512>(kind, s, w, b);
}

std::unique_ptr<mobileone::runtime::kernels::Kernel>
mobileone::runtime::kernels::detail::createGeluAvx512(size_t elements,
                                                    bool approximate) {
  return createGeluFor<Avx512>(elements, approximate);
}

#pragma GCC pop_options
