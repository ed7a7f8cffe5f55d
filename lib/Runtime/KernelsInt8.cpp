//===- KernelsInt8.cpp - int8 convolutions for AVX2 -----------------------===//
//
// The int8 operators that carry a quantised MobileOne's time, bit-exact to
// the reference kernels of Quantized.cpp (TFLite's integer arithmetic with
// single rounding). Both multiply int8 values widened to int16 pairs with
// vpmaddwd: 16 multiply-adds per instruction (twice an fp32 FMA's), exact
// (|2 x 128 x 128| fits int32) where vpmaddubsw's u8 x s8 pairs saturate
// int16 (ONNX Runtime's AVX2 path accepts that error, or asks for 7-bit
// weights). The zero point of the input is folded into each channel's
// starting value (bias - zero x sum of the channel's weights; int32 sums
// wrap as the reference's do, and the true sum fits int32), padding reads
// the zero point itself, so the inner loops see raw int8 values only.
//
//  - Dense convolution (any kernel, stride, dilation, padding; fully
//    connected as 1x1): a GEMM of 6 output pixels x 16 output channels
//    (12 int32 accumulators) over rows packed to int16 from the input, the
//    pixel's channels for 1x1 layers, its patch (im2col, zero point where
//    the patch leaves the image) otherwise. Weights packed at creation as
//    int8, 32 bytes per input-channel pair and 16 output channels, widened
//    in the loop (half the bytes of int16 weights to stream). The rows of a
//    chunk are packed once and every weight block runs over them.
//  - Depthwise convolution (any kernel, multiplier 1): 16 channels of one
//    output pixel per step, two taps per vpmaddwd (their int16 values
//    interleaved by vpunpck, the weights interleaved to match at
//    creation); taps outside the image read a row of zero points.
//
// The epilogue: acc x multiplier (vpmuldq, 64-bit) + rounding, an
// arithmetic right shift by a per-lane count (AVX2 has only the logical
// one: shifted with the sign flipped in and out), the output zero point,
// the clamp, packed to int8.
//
//===----------------------------------------------------------------------===//

#include "KernelsInt8Common.h"
#include "Kernels.h"
#include "Quantized.h"

#include <immintrin.h>
#include <pthreadpool.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

#pragma GCC push_options
#pragma GCC target("avx2,fma")

using namespace mobileone::runtime::kernels;

namespace {

using LaneParams = Lanes<8>;

inline __m256i load(const void *p) {
  return _mm256_loadu_si256(static_cast<const __m256i *>(p));
}

/// (acc + start) requantised as multiplyByQuantizedMultiplier, plus the
/// output zero point, clamped to [lo, hi].
///
/// With p.highOnly (every t = 31 - shift >= 33): for the product P = H 2^32
/// + L (0 <= L < 2^32), (P + 2^(t-1)) >> t = (H + 2^(t-33) + L / 2^32) >>
/// (t - 32), and a fraction below one never changes the floor of an
/// integer over a power of two: the high halves alone, an add and a 32-bit
/// arithmetic shift per lane (vpsravd), exactly.
inline __m256i requantize(__m256i acc, const LaneParams &p, __m256i zero,
                          __m256i lo, __m256i hi) {
  acc = _mm256_add_epi32(acc, load(p.start));
  if (p.highOnly) {
    const __m256i even = _mm256_mul_epi32(acc, load(p.multiplier));
    const __m256i odd = _mm256_mul_epi32(_mm256_srli_epi64(acc, 32),
                                         load(p.multiplierOdd));
    __m256i v = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
    v = _mm256_srav_epi32(_mm256_add_epi32(v, load(p.roundHigh)),
                          load(p.shiftHigh));
    v = _mm256_add_epi32(v, zero);
    return _mm256_min_epi32(_mm256_max_epi32(v, lo), hi);
  }
  const __m256i m = load(p.multiplier);
  __m256i even =
      _mm256_add_epi64(_mm256_mul_epi32(acc, m), load(p.roundEven));
  __m256i odd = _mm256_add_epi64(
      _mm256_mul_epi32(_mm256_srli_epi64(acc, 32), _mm256_srli_epi64(m, 32)),
      load(p.roundOdd));
  const __m256i none = _mm256_setzero_si256();
  const __m256i signEven = _mm256_cmpgt_epi64(none, even);
  const __m256i signOdd = _mm256_cmpgt_epi64(none, odd);
  even = _mm256_xor_si256(
      _mm256_srlv_epi64(_mm256_xor_si256(even, signEven), load(p.shiftEven)),
      signEven);
  odd = _mm256_xor_si256(
      _mm256_srlv_epi64(_mm256_xor_si256(odd, signOdd), load(p.shiftOdd)),
      signOdd);
  __m256i v = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  v = _mm256_add_epi32(v, zero);
  return _mm256_min_epi32(_mm256_max_epi32(v, lo), hi);
}

/// 16 clamped int32 as int8: `first` lanes [0-3, 4-7] of 128-bit halves
/// (the depthwise order) or, with `natural`, channels 0-7 then 8-15.
inline __m128i packInt8(__m256i a, __m256i b, bool natural) {
  __m256i s = _mm256_packs_epi32(a, b);
  if (natural)
    s = _mm256_permute4x64_epi64(s, 0xD8);
  return _mm_packs_epi16(_mm256_castsi256_si128(s),
                         _mm256_extracti128_si256(s, 1));
}

/// Stores the first `n` of 16 bytes.
inline void store16(int8_t *dst, __m128i v, size_t n) {
  if (n >= 16) {
    _mm_storeu_si128(reinterpret_cast<__m128i *>(dst), v);
    return;
  }
  alignas(16) int8_t tmp[16];
  _mm_store_si128(reinterpret_cast<__m128i *>(tmp), v);
  std::memcpy(dst, tmp, n);
}

/// n int8 widened to int16.
inline void widen(const int8_t *src, int16_t *dst, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(
        reinterpret_cast<__m256i *>(dst + i),
        _mm256_cvtepi8_epi16(
            _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + i))));
  for (; i < n; ++i)
    dst[i] = src[i];
}

constexpr size_t kTileRows = 6;
constexpr size_t kBlock = 16; ///< output channels per weight block

/// out[2r], out[2r + 1] = sum over k of the int16 pair k of row r times
/// output channels 0-7 and 8-15 of the weight block `w` (`pairs` >= 1 x 32
/// int8). Written in assembly: from intrinsics GCC hoists the six
/// broadcasts and spills half the twelve accumulators to the stack (the
/// loop then runs at the fp32 GEMM's speed). ymm0-11 accumulate; ymm12-13
/// hold the weights widened, ymm14 a row's broadcast pair, ymm15 a product.
void multiplyTile(const int16_t *const row[kTileRows], const int8_t *w,
                  size_t pairs, __m256i out[2 * kTileRows]) {
  static_assert(kTileRows == 6, "the assembly computes six rows");
#define MOBILEONE_ROW(r, a, b)                                                 \
  "vpbroadcastd (%[r" #r "],%[k],4), %%ymm14\n\t"                              \
  "vpmaddwd %%ymm12, %%ymm14, %%ymm15\n\t"                                     \
  "vpaddd %%ymm15, %%ymm" #a ", %%ymm" #a "\n\t"                               \
  "vpmaddwd %%ymm13, %%ymm14, %%ymm14\n\t"                                     \
  "vpaddd %%ymm14, %%ymm" #b ", %%ymm" #b "\n\t"
#define MOBILEONE_STORE(i) "vmovdqu %%ymm" #i ", 32*" #i "(%[out])\n\t"
  size_t k = 0;
  asm volatile(
      "vpxor %%xmm0, %%xmm0, %%xmm0\n\t"
      "vmovdqa %%ymm0, %%ymm1\n\t"
      "vmovdqa %%ymm0, %%ymm2\n\t"
      "vmovdqa %%ymm0, %%ymm3\n\t"
      "vmovdqa %%ymm0, %%ymm4\n\t"
      "vmovdqa %%ymm0, %%ymm5\n\t"
      "vmovdqa %%ymm0, %%ymm6\n\t"
      "vmovdqa %%ymm0, %%ymm7\n\t"
      "vmovdqa %%ymm0, %%ymm8\n\t"
      "vmovdqa %%ymm0, %%ymm9\n\t"
      "vmovdqa %%ymm0, %%ymm10\n\t"
      "vmovdqa %%ymm0, %%ymm11\n\t"
      "1:\n\t"
      "vpmovsxbw (%[w]), %%ymm12\n\t"
      "vpmovsxbw 16(%[w]), %%ymm13\n\t" //
      MOBILEONE_ROW(0, 0, 1) MOBILEONE_ROW(1, 2, 3) MOBILEONE_ROW(2, 4, 5)
          MOBILEONE_ROW(3, 6, 7) MOBILEONE_ROW(4, 8, 9)
              MOBILEONE_ROW(5, 10, 11) //
      "add $32, %[w]\n\t"
      "inc %[k]\n\t"
      "cmp %[n], %[k]\n\t"
      "jb 1b\n\t" //
      MOBILEONE_STORE(0) MOBILEONE_STORE(1) MOBILEONE_STORE(2)
          MOBILEONE_STORE(3) MOBILEONE_STORE(4) MOBILEONE_STORE(5)
              MOBILEONE_STORE(6) MOBILEONE_STORE(7) MOBILEONE_STORE(8)
                  MOBILEONE_STORE(9) MOBILEONE_STORE(10) MOBILEONE_STORE(11)
      : [w] "+r"(w), [k] "+r"(k)
      : [r0] "r"(row[0]), [r1] "r"(row[1]), [r2] "r"(row[2]),
        [r3] "r"(row[3]), [r4] "r"(row[4]), [r5] "r"(row[5]),
        [n] "r"(pairs), [out] "r"(out)
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
        "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15",
        "cc", "memory");
#undef MOBILEONE_ROW
#undef MOBILEONE_STORE
}

class GemmInt8 final : public KernelInt8 {
public:
  explicit GemmInt8(const QuantizedConv &c);
  void run(const int8_t *input, int8_t *output,
           pthreadpool_t pool) const override;

private:
  /// Rows [m0, m0 + rows) of the GEMM's left operand as int16, `stride`
  /// apart: a pixel's channels (direct), or its patch from `wide` (the
  /// input widened to int16), the input zero point outside the image.
  void packRows(const int8_t *in, const int16_t *wide, size_t m0,
                size_t rows, int16_t *dst) const;
  void block(const int16_t *a, size_t rows, size_t block, int8_t *out) const;

  ConvShape s;
  bool direct; ///< 1x1, stride 1, no padding: a row is a pixel's channels
  size_t M, K, pairs, stride, N, blocks;
  int16_t inputZero;
  int32_t outputZero, lo, hi;
  std::vector<int8_t> w;         ///< [blocks][pairs][32]
  std::vector<LaneParams> lanes; ///< [blocks][2]
  /// Not direct: the input widened once per run, for im2col's row copies.
  mutable std::vector<int16_t> wide;
};

GemmInt8::GemmInt8(const QuantizedConv &c) : s(c.shape) {
  direct = s.kernelH == 1 && s.kernelW == 1 && s.strideH == 1 &&
           s.strideW == 1 && s.padTop == 0 && s.padLeft == 0 &&
           s.inH == s.outH && s.inW == s.outW;
  M = size_t(s.batch) * s.outH * s.outW;
  K = size_t(s.kernelH) * s.kernelW * s.inC;
  pairs = (K + 1) / 2;
  stride = (K + 15) / 16 * 16;
  N = size_t(s.outC);
  blocks = (N + kBlock - 1) / kBlock;
  inputZero = int16_t(c.inputZero);
  outputZero = c.outputZero;
  lo = c.activationMin;
  hi = c.activationMax;
  w.assign(blocks * pairs * 32, 0);
  std::vector<int64_t> sums(N, 0);
  for (size_t o = 0; o < N; ++o)
    for (size_t k = 0; k < K; ++k) {
      const int8_t v = c.weights[o * K + k];
      sums[o] += v;
      // Block o / 16, pair k / 2: vector (o % 16) / 8, lane o % 8, k % 2.
      w[((o / kBlock) * pairs + k / 2) * 32 + (o % kBlock) / 8 * 16 +
        (o % 8) * 2 + k % 2] = v;
    }
  for (size_t b = 0; b < blocks * 2; ++b)
    lanes.push_back(lanesOf<8>(c, sums, [&](size_t j) { return b * 8 + j; }));
}

void GemmInt8::packRows(const int8_t *in, const int16_t *wide, size_t m0,
                        size_t rows, int16_t *dst) const {
  const int16_t *wideEnd =
      wide + size_t(s.batch) * s.inH * s.inW * s.inC + 16;
  for (size_t r = 0; r < rows; ++r, dst += stride) {
    if (direct)
      widen(in + (m0 + r) * K, dst, K);
    else
      im2colRow(s, wide, wideEnd, m0 + r, inputZero, dst);
    std::fill(dst + K, dst + stride, int16_t(0));
  }
}

inline int32_t pairAt(const int16_t *p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/// Output channels [16 block, +16) of `rows` packed rows at `a` (the
/// chunk's first row's output at `out`), 6 rows at a time.
void GemmInt8::block(const int16_t *a, size_t rows, size_t b,
                     int8_t *out) const {
  const int8_t *wb = w.data() + b * pairs * 32;
  const LaneParams &p0 = lanes[2 * b], &p1 = lanes[2 * b + 1];
  const __m256i zero = _mm256_set1_epi32(outputZero),
                low = _mm256_set1_epi32(lo), high = _mm256_set1_epi32(hi);
  const size_t n0 = b * kBlock, width = std::min(kBlock, N - n0);
  for (size_t t = 0; t < rows; t += kTileRows) {
    const size_t valid = std::min(kTileRows, rows - t);
    const int16_t *row[kTileRows];
    for (size_t r = 0; r < kTileRows; ++r)
      row[r] = a + (t + std::min(r, valid - 1)) * stride;
    __m256i c[2 * kTileRows];
    multiplyTile(row, wb, pairs, c);
    for (size_t r = 0; r < valid; ++r) {
      const __m256i v0 = requantize(c[2 * r], p0, zero, low, high);
      const __m256i v1 = requantize(c[2 * r + 1], p1, zero, low, high);
      store16(out + (t + r) * N + n0, packInt8(v0, v1, true), width);
    }
  }
}

void GemmInt8::run(const int8_t *input, int8_t *output,
                   pthreadpool_t pool) const {
  // Rows per chunk: its packed rows (int16) about 64 KB, L2-resident while
  // every weight block runs over them; with threads, at least 4 chunks per
  // thread where the rows allow, and channel groups where they do not.
  const size_t threads = threadsOf(pool);
  auto roundUp = [](size_t v) { return (v + kTileRows - 1) / kTileRows * kTileRows; };
  size_t chunkRows = std::max(kTileRows, 32768 / stride / kTileRows * kTileRows);
  if (threads > 1)
    chunkRows = std::min(chunkRows,
                         std::max(kTileRows, roundUp((M + 4 * threads - 1) /
                                                     (4 * threads))));
  chunkRows = std::min(chunkRows, roundUp(M));
  const size_t chunks = (M + chunkRows - 1) / chunkRows;
  size_t groups = 1;
  if (chunks < 2 * threads)
    groups = std::min(blocks, (2 * threads + chunks - 1) / chunks);
  const size_t perGroup = (blocks + groups - 1) / groups;
  if (!direct) {
    const size_t elements = size_t(s.batch) * s.inH * s.inW * s.inC;
    wide.resize(elements + 16); // im2colRow's 32-byte copies may read past the end
    const size_t parts = std::min<size_t>(threads, (elements + 4095) / 4096);
    auto widenPart = [&](size_t i) {
      const size_t begin = elements * i / parts, end = elements * (i + 1) / parts;
      widen(input + begin, wide.data() + begin, end - begin);
    };
    parallel(pool, parts, widenPart);
  }
  auto task = [&](size_t i) {
    const size_t chunk = i / groups, group = i % groups;
    const size_t m0 = chunk * chunkRows, rows = std::min(chunkRows, M - m0);
    thread_local std::vector<int16_t> packed;
    if (packed.size() < chunkRows * stride + 16)
      packed.resize(chunkRows * stride + 16); // 32 spare bytes: im2colRow
    packRows(input, wide.data(), m0, rows, packed.data());
    const size_t b1 = std::min(blocks, (group + 1) * perGroup);
    for (size_t b = group * perGroup; b < b1; ++b)
      block(packed.data(), rows, b, output + m0 * N);
  };
  parallel(pool, chunks * groups, task);
}

class DepthwiseInt8 final : public KernelInt8 {
public:
  explicit DepthwiseInt8(const QuantizedConv &c);
  void run(const int8_t *input, int8_t *output,
           pthreadpool_t pool) const override;

private:
  /// Output rows [row0, row0 + count) of the batch; Pairs as in
  /// depthwiseGroup (5: 3x3 kernels).
  template <int Pairs>
  void rows(const int8_t *in, int8_t *out, size_t row0, size_t count) const;

  ConvShape s;
  size_t C, pairs, groups;
  int32_t outputZero, lo, hi;
  std::vector<int8_t> zeroRow; ///< groups x 16 bytes of the input zero point
  std::vector<int32_t> w;      ///< [groups][pairs][2][8] int16 pairs
  std::vector<LaneParams> lanes; ///< [groups][2]
};

/// The channel of lane j of the low (half 0) or high (half 1) vector of a
/// 16-channel group: vpunpck{l,h}wd order, [0-3, 8-11] and [4-7, 12-15].
size_t depthwiseChannel(size_t half, size_t j) {
  return (j < 4 ? j : j + 4) + 4 * half;
}

DepthwiseInt8::DepthwiseInt8(const QuantizedConv &c) : s(c.shape) {
  C = size_t(s.outC);
  pairs = (size_t(s.kernelH) * s.kernelW + 1) / 2;
  groups = (C + 15) / 16;
  outputZero = c.outputZero;
  lo = c.activationMin;
  hi = c.activationMax;
  zeroRow.assign(groups * 16, int8_t(c.inputZero));
  const std::vector<int64_t> sums =
      packDepthwisePairs<16>(c, depthwiseChannel, w);
  for (size_t g = 0; g < groups; ++g)
    for (size_t half = 0; half < 2; ++half)
      lanes.push_back(lanesOf<8>(c, sums, [&](size_t j) {
        return g * 16 + depthwiseChannel(half, j);
      }));
}

/// One output pixel's 16 channels [offset, offset + 16) of `tap`: the
/// pairs' multiply-adds and the epilogue. `Pairs` > 0: a fixed count (the
/// loop unrolled, the tap pointers in registers); 0: `pairs` at run time.
template <int Pairs>
inline __m128i depthwiseGroup(const int8_t *const *tap, size_t offset,
                              const int32_t *wg, size_t pairs,
                              const LaneParams *lanes, __m256i zero,
                              __m256i low, __m256i high) {
  __m256i accLo = _mm256_setzero_si256(), accHi = accLo;
  const size_t n = Pairs > 0 ? size_t(Pairs) : pairs;
#pragma GCC unroll 8
  for (size_t p = 0; p < n; ++p, wg += 16) {
    const __m256i a = _mm256_cvtepi8_epi16(_mm_loadu_si128(
        reinterpret_cast<const __m128i *>(tap[2 * p] + offset)));
    const __m256i b = _mm256_cvtepi8_epi16(_mm_loadu_si128(
        reinterpret_cast<const __m128i *>(tap[2 * p + 1] + offset)));
    accLo = _mm256_add_epi32(
        accLo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), load(wg)));
    accHi = _mm256_add_epi32(
        accHi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), load(wg + 8)));
  }
  return packInt8(requantize(accLo, lanes[0], zero, low, high),
                  requantize(accHi, lanes[1], zero, low, high), false);
}

template <int Pairs>
void DepthwiseInt8::rows(const int8_t *in, int8_t *out, size_t row0,
                         size_t count) const {
  const __m256i zero = _mm256_set1_epi32(outputZero),
                low = _mm256_set1_epi32(lo), high = _mm256_set1_epi32(hi);
  depthwiseRows<16>(
      s, 2 * pairs, zeroRow.data(), in, out, row0, count,
      [&](const int8_t *const *tap, size_t offset, size_t g, int8_t *dst,
          size_t width) {
        store16(dst,
                depthwiseGroup<Pairs>(tap, offset, w.data() + g * pairs * 16,
                                      pairs, &lanes[2 * g], zero, low, high),
                width);
      });
}

void DepthwiseInt8::run(const int8_t *input, int8_t *output,
                        pthreadpool_t pool) const {
  depthwiseRun(s, pool, [&](size_t row0, size_t count) {
    if (pairs == 5) // 3x3
      rows<5>(input, output, row0, count);
    else
      rows<0>(input, output, row0, count);
  });
}

} // namespace

namespace {
/// 8 int8 at q widened to int32, minus z.
inline __m256i widen8(const int8_t *q, __m256i z) {
  int64_t bytes;
  std::memcpy(&bytes, q, 8);
  return _mm256_sub_epi32(_mm256_cvtepi8_epi32(_mm_cvtsi64_si128(bytes)), z);
}
} // namespace

void mobileone::runtime::kernels::detail::mulInt8Avx2(const MulInt8 &m) {
  const LaneParams p = uniformLanes<8>(m.multiplier, m.shift);
  const __m256i za = _mm256_set1_epi32(m.zeroA), zb = _mm256_set1_epi32(m.zeroB);
  const __m256i zero = _mm256_set1_epi32(m.outputZero),
                low = _mm256_set1_epi32(m.activationMin),
                high = _mm256_set1_epi32(m.activationMax);
  for (size_t image = 0; image < m.images; ++image)
    for (size_t pixel = 0; pixel < m.pixels; ++pixel) {
      const size_t row = image * m.pixels + pixel;
      const int8_t *a = m.a + row * m.channels;
      const int8_t *b =
          m.bScalar ? m.b : m.b + (m.bPerPixel ? row : image) * m.channels;
      int8_t *out = m.out + row * m.channels;
      size_t c = 0;
      for (; c + 8 <= m.channels; c += 8) {
        // (a - za)(b - zb) fits int32: at most 255 x 255.
        const __m256i vb =
            m.bScalar ? _mm256_set1_epi32(int32_t(*b) - m.zeroB) : widen8(b + c, zb);
        const __m256i v = requantize(_mm256_mullo_epi32(widen8(a + c, za), vb),
                                     p, zero, low, high);
        const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(v),
                                              _mm256_extracti128_si256(v, 1));
        const int64_t bytes = _mm_cvtsi128_si64(_mm_packs_epi16(words, words));
        std::memcpy(out + c, &bytes, 8);
      }
      for (; c < m.channels; ++c) {
        // (a - za)(b - zb) fits int32: at most 255 x 255.
        int32_t v = mobileone::runtime::multiplyByQuantizedMultiplier(
            (int32_t(a[c]) - m.zeroA) * (int32_t(b[m.bScalar ? 0 : c]) - m.zeroB),
            m.multiplier, m.shift);
        v = std::min(std::max(v + m.outputZero, m.activationMin), m.activationMax);
        out[c] = int8_t(v);
      }
    }
}


void mobileone::runtime::kernels::detail::addInt8Avx2(const AddInt8 &m) {
  const LaneParams pa = uniformLanes<8>(m.multiplierA, m.shiftA),
                   pb = uniformLanes<8>(m.multiplierB, m.shiftB),
                   po = uniformLanes<8>(m.multiplier, m.shift);
  const __m256i za = _mm256_set1_epi32(m.zeroA), zb = _mm256_set1_epi32(m.zeroB);
  const __m256i zero = _mm256_set1_epi32(m.outputZero),
                low = _mm256_set1_epi32(m.activationMin),
                high = _mm256_set1_epi32(m.activationMax);
  const __m256i none = _mm256_setzero_si256(),
                min32 = _mm256_set1_epi32(INT32_MIN),
                max32 = _mm256_set1_epi32(INT32_MAX);
  size_t i = 0;
  for (; i + 8 <= m.elements; i += 8) {
    // (q - z) << 20 fits int32: |q - z| <= 255.
    const __m256i sa = requantize(_mm256_slli_epi32(widen8(m.a + i, za), 20),
                                  pa, none, min32, max32);
    const __m256i sb = requantize(_mm256_slli_epi32(widen8(m.b + i, zb), 20),
                                  pb, none, min32, max32);
    const __m256i v =
        requantize(m.subtract ? _mm256_sub_epi32(sa, sb) : _mm256_add_epi32(sa, sb),
                   po, zero, low, high);
    const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(v),
                                          _mm256_extracti128_si256(v, 1));
    const int64_t bytes = _mm_cvtsi128_si64(_mm_packs_epi16(words, words));
    std::memcpy(m.out + i, &bytes, 8);
  }
  for (; i < m.elements; ++i) {
    const int32_t sa = mobileone::runtime::multiplyByQuantizedMultiplier(
        (int32_t(m.a[i]) - m.zeroA) * (1 << 20), m.multiplierA, m.shiftA);
    const int32_t sb = mobileone::runtime::multiplyByQuantizedMultiplier(
        (int32_t(m.b[i]) - m.zeroB) * (1 << 20), m.multiplierB, m.shiftB);
    int32_t v = mobileone::runtime::multiplyByQuantizedMultiplier(
                    m.subtract ? sa - sb : sa + sb, m.multiplier, m.shift) +
                m.outputZero;
    m.out[i] = int8_t(std::min(std::max(v, m.activationMin), m.activationMax));
  }
}

void mobileone::runtime::kernels::detail::lookupInt8Avx2(const int8_t *in,
                                                         int8_t *out, size_t n,
                                                         const int8_t *table) {
  // Index u = q + 128: row u >> 4 of the table, column u & 15. Each row is
  // looked up for all 32 bytes (vpshufb) and kept where the row matches.
  __m256i rows[16];
  for (int r = 0; r < 16; ++r)
    rows[r] = _mm256_broadcastsi128_si256(
        _mm_loadu_si128(reinterpret_cast<const __m128i *>(table + 16 * r)));
  const __m256i bias = _mm256_set1_epi8(int8_t(-128)),
                low4 = _mm256_set1_epi8(15);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i u = _mm256_xor_si256(
        load(in + i), bias); // q + 128 as an unsigned byte
    const __m256i column = _mm256_and_si256(u, low4);
    const __m256i row = _mm256_and_si256(_mm256_srli_epi16(u, 4), low4);
    __m256i v = _mm256_setzero_si256();
    for (int r = 0; r < 16; ++r)
      v = _mm256_or_si256(
          v, _mm256_and_si256(_mm256_cmpeq_epi8(row, _mm256_set1_epi8(int8_t(r))),
                              _mm256_shuffle_epi8(rows[r], column)));
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(out + i), v);
  }
  for (; i < n; ++i)
    out[i] = table[int32_t(in[i]) + 128];
}

void mobileone::runtime::kernels::detail::quantizeFloatsAvx2(
    const float *in, int8_t *out, size_t n, float scale, int32_t zero) {
  const __m256 s = _mm256_set1_ps(scale), z = _mm256_set1_ps(float(zero));
  const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 lo = _mm256_set1_ps(-128.0f), hi = _mm256_set1_ps(127.0f);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(in + i);
    const __m256 d = _mm256_div_ps(v, s); // as the scalar v / scale
    // std::round: truncate, then one away from zero where |d - t| >= 1/2
    // (d - t is exact).
    const __m256 t = _mm256_round_ps(d, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 up = _mm256_cmp_ps(_mm256_andnot_ps(sign, _mm256_sub_ps(d, t)),
                                    half, _CMP_GE_OQ);
    const __m256 away = _mm256_or_ps(_mm256_and_ps(d, sign), one);
    __m256 r = _mm256_add_ps(_mm256_add_ps(t, _mm256_and_ps(up, away)), z);
    r = _mm256_min_ps(_mm256_max_ps(r, lo), hi);
    r = _mm256_blendv_ps(r, z, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    const __m256i q = _mm256_cvttps_epi32(r);
    const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(q),
                                          _mm256_extracti128_si256(q, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i *>(out + i),
                     _mm_packs_epi16(words, words));
  }
  for (; i < n; ++i) {
    if (std::isnan(in[i])) {
      out[i] = int8_t(zero);
      continue;
    }
    const float q = std::round(in[i] / scale) + float(zero);
    out[i] = int8_t(std::min(127.0f, std::max(-128.0f, q)));
  }
}

std::unique_ptr<KernelInt8>
mobileone::runtime::kernels::detail::createConvInt8X86(const QuantizedConv &c,
                                                       bool vnni) {
  const ConvShape &s = c.shape;
  if (s.batch <= 0 || s.outH <= 0 || s.outW <= 0 || s.inC <= 0 ||
      s.outC <= 0 || s.kernelH <= 0 || s.kernelW <= 0 || s.strideH <= 0 ||
      s.strideW <= 0 || s.dilationH <= 0 || s.dilationW <= 0 ||
      !c.weights || !c.multiplier || !c.shift ||
      (c.channels != 1 && c.channels != size_t(s.outC)))
    return nullptr;
  for (size_t i = 0; i < c.channels; ++i)
    if (c.shift[i] < -31 || c.shift[i] > 30)
      return nullptr;
  if (c.depthwise) {
    if (s.inC != s.outC || size_t(s.kernelH) * s.kernelW > kMaxDepthwiseTaps)
      return nullptr;
    if (vnni)
      return createDepthwiseInt8Vnni(c);
    return std::make_unique<DepthwiseInt8>(c);
  }
  // The reference's bound: a reduction the int32 accumulator holds.
  if (size_t(s.kernelH) * s.kernelW * s.inC > 65536)
    return nullptr;
  if (vnni)
    return createGemmInt8Vnni(c);
  return std::make_unique<GemmInt8>(c);
}

#pragma GCC pop_options
