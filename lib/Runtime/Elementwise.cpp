//===- Elementwise.cpp - AVX2 kernels: GELU, depthwise KxK -----------------===//
//
// Kernels for any CPU with AVX2 + FMA (not only AVX-512), each behind a
// run-time check.
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

//===----------------------------------------------------------------------===//
// Depthwise KxK
//===----------------------------------------------------------------------===//

/// Depthwise convolution of any kernel size and stride, multiplier 1, no
/// dilation, NHWC, 8 channels per vector. Weights are repacked
/// [chunk][KH * KW][8] (zeros beyond C). Four output pixels share each
/// weight load where all their taps are inside the input; pixels at the
/// borders skip the taps outside. Rows are split over the pool.
class DepthwiseKxK : public Kernel {
public:
  DepthwiseKxK(const ConvShape &s, const float *w, const float *b) : s(s) {
    chunks = (s.inC + 7) / 8;
    taps = s.kernelH * s.kernelW;
    weights.assign(size_t(chunks) * taps * 8, 0.0f);
    bias.assign(size_t(chunks) * 8, 0.0f);
    for (int c = 0; c < s.inC; ++c) {
      for (int t = 0; t < taps; ++t)
        weights[(size_t(c / 8) * taps + t) * 8 + c % 8] = w[size_t(t) * s.inC + c];
      if (b)
        bias[c] = b[c];
    }
    // Outputs whose whole window is inside the input: [xLo, xHi].
    xLo = (s.padLeft + s.strideW - 1) / s.strideW;
    xHi = (s.inW - s.kernelW + s.padLeft) / s.strideW;
    xHi = std::min(xHi, s.outW - 1);
  }

  void run(const float *input, float *output,
           pthreadpool_t pool) const override {
    struct Context {
      const DepthwiseKxK *self;
      const float *in;
      float *out;
    } ctx{this, input, output};
    pthreadpool_parallelize_1d(
        pool,
        [](void *p, size_t row) {
          auto *c = static_cast<Context *>(p);
          c->self->outputRow(c->in, c->out, row);
        },
        &ctx, size_t(s.batch) * s.outH, PTHREADPOOL_FLAG_DISABLE_DENORMALS);
  }

private:
  /// What one 8-channel chunk of a row needs (lambdas would not inherit
  /// the AVX2 target).
  struct Row {
    const float *image;
    float *out;
    const float *w;
    __m256 bias, lo, hi;
    __m256i mask;
    int ch, lanes, iy0, ky0, ky1;
  };

  TARGET __m256 load(const Row &r, int iy, int ix) const {
    const float *p = r.image + (size_t(iy) * s.inW + ix) * size_t(s.inC) + r.ch;
    return r.lanes == 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, r.mask);
  }

  TARGET void store(const Row &r, int ox, __m256 v) const {
    // max/min return their second operand when one is NaN: a NaN stays.
    v = _mm256_min_ps(r.hi, _mm256_max_ps(r.lo, v));
    float *p = r.out + size_t(ox) * s.inC + r.ch;
    if (r.lanes == 8)
      _mm256_storeu_ps(p, v);
    else
      _mm256_maskstore_ps(p, r.mask, v);
  }

  /// One output with every tap checked.
  TARGET void single(const Row &r, int ox) const {
    __m256 acc = r.bias;
    const int ix0 = ox * s.strideW - s.padLeft;
    const int kx0 = std::max(0, -ix0), kx1 = std::min(s.kernelW, s.inW - ix0);
    for (int ky = r.ky0; ky < r.ky1; ++ky)
      for (int kx = kx0; kx < kx1; ++kx)
        acc = _mm256_fmadd_ps(load(r, r.iy0 + ky, ix0 + kx),
                              _mm256_loadu_ps(r.w + (ky * s.kernelW + kx) * 8),
                              acc);
    store(r, ox, acc);
  }

  /// Four outputs from ox, every tap inside the row.
  TARGET void four(const Row &r, int ox) const {
    __m256 acc[4] = {r.bias, r.bias, r.bias, r.bias};
    const int ix0 = ox * s.strideW - s.padLeft;
    for (int ky = r.ky0; ky < r.ky1; ++ky)
      for (int kx = 0; kx < s.kernelW; ++kx) {
        const __m256 wv = _mm256_loadu_ps(r.w + (ky * s.kernelW + kx) * 8);
        for (int p = 0; p < 4; ++p)
          acc[p] = _mm256_fmadd_ps(load(r, r.iy0 + ky, ix0 + p * s.strideW + kx),
                                   wv, acc[p]);
      }
    for (int p = 0; p < 4; ++p)
      store(r, ox + p, acc[p]);
  }

  TARGET void outputRow(const float *input, float *output, size_t row) const {
    const size_t b = row / s.outH;
    const int oy = int(row % s.outH);
    Row r;
    r.image = input + b * s.inH * size_t(s.inW) * s.inC;
    r.out = output + row * size_t(s.outW) * s.inC;
    r.iy0 = oy * s.strideH - s.padTop;
    r.ky0 = std::max(0, -r.iy0);
    r.ky1 = std::min(s.kernelH, s.inH - r.iy0);
    r.lo = _mm256_set1_ps(s.outMin);
    r.hi = _mm256_set1_ps(s.outMax);
    for (int chunk = 0; chunk < chunks; ++chunk) {
      r.ch = chunk * 8;
      r.lanes = std::min(8, s.inC - r.ch);
      r.mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(r.lanes),
                                  _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
      r.w = weights.data() + size_t(chunk) * taps * 8;
      r.bias = _mm256_loadu_ps(bias.data() + r.ch);
      int ox = 0;
      for (; ox < std::min(xLo, s.outW); ++ox)
        single(r, ox);
      for (; ox + 3 <= xHi; ox += 4)
        four(r, ox);
      for (; ox < s.outW; ++ox)
        single(r, ox);
    }
  }

  ConvShape s;
  int chunks, taps, xLo, xHi;
  std::vector<float> weights, bias;
};

} // namespace

bool avx2Available() { return detectIsa() != Isa::None; }

std::unique_ptr<Kernel> createDepthwiseKxK(const ConvShape &s,
                                           const float *weights,
                                           const float *bias) {
  if (!avx2Available() || s.inC != s.outC || s.inC <= 0 ||
      s.dilationH != 1 || s.dilationW != 1 || s.kernelH < 1 ||
      s.kernelW < 1 || s.strideH < 1 || s.strideW < 1 || s.outH <= 0 ||
      s.outW <= 0)
    return nullptr;
  return std::make_unique<DepthwiseKxK>(s, weights, bias);
}

bool depthwiseKxKBeatsXnnpack(const ConvShape &s) {
  // Kernels larger than 3x3: XNNPACK 2022-02 runs FastViT's 7x7 layers at
  // 5-6 GFLOP/s.
  return s.kernelH * s.kernelW > 9;
}

std::unique_ptr<Kernel> createGelu(size_t elements, bool approximate) {
  if (!avx2Available() || elements == 0)
    return nullptr;
  return std::make_unique<Gelu>(elements, approximate);
}

} // namespace mobileone::runtime::kernels
