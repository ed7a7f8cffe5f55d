//===- KernelsAvx2.cpp - the convolution kernels for AVX2 + FMA -----------===//
//
// KernelsImpl.h instantiated with 8-lane ymm vectors for CPUs without
// AVX-512 (AMD Zen 1-3, most laptops). 16 registers: a 6 x 2-vector GEMM
// tile (12 accumulators, two weight vectors and a broadcast), depthwise
// steps of one row (nine weights and four sums stay in registers), stem
// groups of two vectors. AVX2 has no mask registers: a mask is a vector of
// all-ones lanes for vmaskmov, which only the tails use. Entered only after
// the run-time check in Kernels.cpp.
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
#pragma GCC target("avx2,fma")

namespace {

struct Avx2 {
  using V = __m256;
  /// Lanes to load or store: all ones (a struct, so that a function type
  /// taking it keeps no vector attribute).
  struct Mask {
    __m256i bits;
  };
  static constexpr int kLanes = 8;
  static constexpr int kAccumulators = 12;
  static constexpr int kTileRows = 6; // 4 x 3 measured 8-11% slower
  static constexpr int kPanelVectors = 2;
  static constexpr int kDepthwiseRows = 1;
  static constexpr int kDirectGroupVectors = 2;
  static constexpr int kKxKPixels = 4;

  static V load(const float *p) { return _mm256_load_ps(p); }
  static V loadu(const float *p) { return _mm256_loadu_ps(p); }
  static V loadMasked(const float *p, Mask m) {
    return _mm256_maskload_ps(p, m.bits);
  }
  static void storeu(float *p, V v) { _mm256_storeu_ps(p, v); }
  static void storeMasked(float *p, Mask m, V v) {
    _mm256_maskstore_ps(p, m.bits, v);
  }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V zero() { return _mm256_setzero_ps(); }
  static V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V min(V a, V b) { return _mm256_min_ps(a, b); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  static Mask tail(int lanes) {
    return {_mm256_cmpgt_epi32(_mm256_set1_epi32(lanes),
                               _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))};
  }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V div(V a, V b) { return _mm256_div_ps(a, b); }
  static V fnmadd(V a, V b, V c) { return _mm256_fnmadd_ps(a, b, c); }
  static V abs(V x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }
  static V copySign(V mag, V sign) {
    return _mm256_or_ps(abs(mag), _mm256_and_ps(sign, _mm256_set1_ps(-0.0f)));
  }
  static V round(V x) {
    return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  /// 2^n for integral n in [-126, 127].
  static V pow2i(V n) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(
        _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23));
  }

};

} // namespace

#include "KernelsImpl.h"

std::unique_ptr<mobileone::runtime::kernels::Kernel>
mobileone::runtime::kernels::detail::createAvx2(KernelKind kind,
                                                const ConvShape &s,
                                                const float *w,
                                                const float *b) {
  return createFor<Avx2>(kind, s, w, b);
}

std::unique_ptr<mobileone::runtime::kernels::Kernel>
mobileone::runtime::kernels::detail::createGeluAvx2(size_t elements,
                                                    bool approximate) {
  return createGeluFor<Avx2>(elements, approximate);
}

#pragma GCC pop_options
