//===- Elementwise.cpp - AVX2 kernels: GELU ---------------------------------===//
//
// Element-wise kernels for any CPU with AVX2 + FMA (not only AVX-512),
// behind a run-time check.
//
// XNNPACK 2022-02 has no GELU, and the portable kernel (std::erf per
// element, one thread) took 46% of FastViT-T8's time. This one runs on any
// CPU with AVX2 + FMA, 8 lanes at a time, split over the thread pool:
//   exact:  0.5 x (1 + erf(x / sqrt 2)), erf by Abramowitz-Stegun 7.1.26
//           (|error| <= 1.5e-7) with a Cephes-style exp;
//   tanh:   0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), tanh(u) as
//           1 - 2 / (1 + exp(2u)).
// A tail shorter than 8 goes through the same vector code on a padded copy,
// so every element gets the same arithmetic wherever it sits.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include <immintrin.h>
#include <pthreadpool.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace mobileone::runtime::kernels {
namespace {

#define TARGET __attribute__((target("avx2,fma")))

/// e^x for x in about [-87, 88] (clamped), relative error ~1e-7.
TARGET inline __m256 exp8(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)),
                    _mm256_set1_ps(88.0f));
  __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504089f)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(_mm256_mul_ps(p, r), r, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  __m256i scale = _mm256_slli_epi32(
      _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(scale));
}

TARGET inline __m256 geluErf8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  __m256 z = _mm256_mul_ps(x, _mm256_set1_ps(0.70710678118654752f));
  __m256 sign = _mm256_and_ps(z, _mm256_set1_ps(-0.0f));
  __m256 a = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), z); // |z|
  __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(a, _mm256_set1_ps(0.3275911f), one));
  __m256 poly = _mm256_set1_ps(1.061405429f);
  poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(-1.453152027f));
  poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(1.421413741f));
  poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(-0.284496736f));
  poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(0.254829592f));
  poly = _mm256_mul_ps(poly, t);
  __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(a, a)));
  __m256 erfAbs = _mm256_fnmadd_ps(poly, e, one);
  __m256 erf = _mm256_or_ps(erfAbs, sign);
  return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x),
                       _mm256_add_ps(one, erf));
}

TARGET inline __m256 geluTanh8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
  __m256 u = _mm256_mul_ps(_mm256_set1_ps(0.7978845608028654f),
                           _mm256_fmadd_ps(x3, _mm256_set1_ps(0.044715f), x));
  __m256 e = exp8(_mm256_add_ps(u, u));
  __m256 tanh = _mm256_sub_ps(
      one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(one, e)));
  return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x),
                       _mm256_add_ps(one, tanh));
}

template <bool Approximate>
TARGET void geluRange(const float *in, float *out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 x = _mm256_loadu_ps(in + i);
    _mm256_storeu_ps(out + i, Approximate ? geluTanh8(x) : geluErf8(x));
  }
  if (i < n) {
    float buf[8] = {};
    std::memcpy(buf, in + i, (n - i) * sizeof(float));
    __m256 x = _mm256_loadu_ps(buf);
    _mm256_storeu_ps(buf, Approximate ? geluTanh8(x) : geluErf8(x));
    std::memcpy(out + i, buf, (n - i) * sizeof(float));
  }
}

class Gelu : public Kernel {
public:
  Gelu(size_t elements, bool approximate)
      : elements(elements), approximate(approximate) {}

  void run(const float *input, float *output,
           pthreadpool_t pool) const override {
    struct Context {
      const Gelu *self;
      const float *in;
      float *out;
    } ctx{this, input, output};
    size_t chunks = (elements + kChunk - 1) / kChunk;
    pthreadpool_parallelize_1d(
        pool,
        [](void *p, size_t c) {
          auto *ctx = static_cast<Context *>(p);
          size_t lo = c * kChunk, n = std::min(kChunk, ctx->self->elements - lo);
          if (ctx->self->approximate)
            geluRange<true>(ctx->in + lo, ctx->out + lo, n);
          else
            geluRange<false>(ctx->in + lo, ctx->out + lo, n);
        },
        &ctx, chunks, PTHREADPOOL_FLAG_DISABLE_DENORMALS);
  }

private:
  static constexpr size_t kChunk = 4096;
  size_t elements;
  bool approximate;
};

} // namespace

bool avx2Available() { return detectIsa() != Isa::None; }

std::unique_ptr<Kernel> createGelu(size_t elements, bool approximate) {
  if (!avx2Available() || elements == 0)
    return nullptr;
  return std::make_unique<Gelu>(elements, approximate);
}

} // namespace mobileone::runtime::kernels
