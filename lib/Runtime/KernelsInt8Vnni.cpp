//===- KernelsInt8Vnni.cpp - int8 convolutions on AVX-512 VNNI ------------===//
//
// The int8 GEMM of KernelsInt8.cpp on AVX-512 VNNI, bit-exact to the
// reference kernels of Quantized.cpp: dense convolutions of any kernel,
// stride, dilation and padding (fully connected as 1x1) as a GEMM of 12
// output pixels x 32 output channels (24 zmm accumulators) over rows of
// int8, each vpdpbusd 64 multiply-adds (four per int32 lane), four times an
// fp32 FMA's and twice the AVX2 kernel's vpmaddwd, exact (no int16 step to
// saturate, unlike vpmaddubsw).
//
// vpdpbusd multiplies unsigned bytes by signed ones. The activations are
// the signed operand, broadcast from memory four bytes (one pixel's four
// channels) at a time inside the instruction, read straight from the input
// for a 1x1 layer (no packing pass) and from im2col rows otherwise. The
// weights are the unsigned operand, stored as w + 128 at creation:
// sum (w + 128) x = sum w x + 128 sum x, and 128 x the row's sum (one
// vpdpbusd by ones per 64 bytes, once per row) is subtracted in the
// epilogue. Zero-padded reductions (K not a multiple of 4) carry weight
// bytes 0. int32 lanes wrap as the reference's accumulator does; the true
// result fits.
//
// The epilogue: minus the row's correction, plus the channel's start
// (bias - input zero point x weight sum), TFLite's single-rounding
// requantisation per channel (vpmuldq on even and odd lanes; an arithmetic
// 64-bit shift, or where every multiplier is below 1/4 the high halves'
// 32-bit shift alone), the output zero point, the clamp, vpmovsdb, a
// masked store for the last channels.
//
// Also here, as the AVX2 file's at twice the width: depthwise convolutions
// (32 channels per step, two taps per vpdpwssd on int16 pairs) and ADD/SUB.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"
#include "KernelsInt8Common.h"

#include <immintrin.h>
#include <pthreadpool.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")

using namespace mobileone::runtime::kernels;

namespace {

constexpr size_t kRows = 12;  ///< output pixels per tile
constexpr size_t kBlock = 32; ///< output channels per weight block

using Lanes16 = Lanes<16>;

/// `p` with the output zero point z joining the rounding term where that
/// is exact: with highOnly and every k = total - 32 <= 21, (H + r + z 2^k)
/// >> k = ((H + r) >> k) + z (an arithmetic shift is a floor division, and
/// z 2^k a multiple of 2^k), and nothing overflows: |H| <= 2^30 (|acc| <=
/// 2^31, multiplier < 2^31), r < 2^29, |z 2^k| <= 2^28.
Lanes16 foldZero(Lanes16 p, int32_t zero) {
  p.zeroFolded = p.highOnly && zero >= -128 && zero <= 127 &&
                 std::all_of(p.shiftHigh, p.shiftHigh + 16,
                             [](int32_t k) { return k <= 21; });
  if (p.zeroFolded)
    for (size_t j = 0; j < 16; ++j)
      p.roundHigh[j] += int32_t(uint32_t(zero) << p.shiftHigh[j]);
  return p;
}

inline __m512i load(const void *p) { return _mm512_loadu_si512(p); }

/// (acc + start) requantised as multiplyByQuantizedMultiplier, plus the
/// output zero point (`zero`, unless p folded it in); as KernelsInt8.cpp's
/// requantize (whose comment proves the high-halves form exact), 16 lanes
/// wide, with AVX-512's arithmetic 64-bit shift.
inline __m512i requantize(__m512i acc, const Lanes16 &p, __m512i zero) {
  acc = _mm512_add_epi32(acc, load(p.start));
  if (p.highOnly) {
    const __m512i even = _mm512_mul_epi32(acc, load(p.multiplier));
    const __m512i odd = _mm512_mul_epi32(_mm512_srli_epi64(acc, 32),
                                         load(p.multiplierOdd));
    // The products' high halves: odd lanes from `odd`, even lanes from
    // `even`'s odd dwords (vpshufd swapping each pair, masked).
    __m512i v = _mm512_mask_shuffle_epi32(odd, 0x5555, even, _MM_PERM_CDAB);
    v = _mm512_srav_epi32(_mm512_add_epi32(v, load(p.roundHigh)),
                          load(p.shiftHigh));
    return p.zeroFolded ? v : _mm512_add_epi32(v, zero);
  }
  const __m512i m = load(p.multiplier);
  const __m512i even = _mm512_srav_epi64(
      _mm512_add_epi64(_mm512_mul_epi32(acc, m), load(p.roundEven)),
      load(p.shiftEven));
  const __m512i odd = _mm512_srav_epi64(
      _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(acc, 32),
                                        _mm512_srli_epi64(m, 32)),
                       load(p.roundOdd)),
      load(p.shiftOdd));
  const __m512i v =
      _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
  return _mm512_add_epi32(v, zero);
}

/// The activation clamp [lo, hi] ahead of vpmovsdb, whose saturation to
/// [-128, 127] leaves out the bounds that are int8's own.
struct Clamp {
  Clamp(int32_t lo, int32_t hi)
      : lo(_mm512_set1_epi32(lo)), hi(_mm512_set1_epi32(hi)),
        needLo(lo > -128), needHi(hi < 127) {}
  __m128i bytes(__m512i v) const {
    if (needLo)
      v = _mm512_max_epi32(v, lo);
    if (needHi)
      v = _mm512_min_epi32(v, hi);
    return _mm512_cvtsepi32_epi8(v);
  }
  __m512i lo, hi;
  bool needLo, needHi;
};

/// The sum of n int8 values: vpdpbusd by ones, 64 bytes at a time (the
/// last ones by a masked load, which reads nothing past n).
inline int32_t rowSum(const int8_t *x, size_t n) {
  const __m512i ones = _mm512_set1_epi8(1);
  __m512i acc = _mm512_setzero_si512();
  size_t k = 0;
  for (; k + 64 <= n; k += 64)
    acc = _mm512_dpbusd_epi32(acc, ones, load(x + k));
  if (k < n)
    acc = _mm512_dpbusd_epi32(
        acc, ones, _mm512_maskz_loadu_epi8((uint64_t(1) << (n - k)) - 1, x + k));
  return _mm512_reduce_add_epi32(acc);
}

// The tile's 12 rows, `stride` bytes apart from p0, addressed from four
// pointers (p3 = p0 + 3 stride, p6, p9) and the stride as index: 0 (p0),
// 1 (p0 + s), 2 (p0 + 2s), 3 (p3), 4 (p0 + 4s), 5 (p3 + 2s), 6 (p6),
// 7 (p3 + 4s), 8 (p0 + 8s), 9 (p9), 10 (p6 + 4s), 11 (p3 + 8s).
// Row r accumulates channels 0-15 in zmm r and 16-31 in zmm 12 + r.
#define MOBILEONE_ROWS(X)                                                      \
  X("(%[p0])", 0, 12) X("(%[p0],%[s],1)", 1, 13) X("(%[p0],%[s],2)", 2, 14)   \
  X("(%[p3])", 3, 15) X("(%[p0],%[s],4)", 4, 16) X("(%[p3],%[s],2)", 5, 17)   \
  X("(%[p6])", 6, 18) X("(%[p3],%[s],4)", 7, 19) X("(%[p0],%[s],8)", 8, 20)   \
  X("(%[p9])", 9, 21) X("(%[p6],%[s],4)", 10, 22) X("(%[p3],%[s],8)", 11, 23)
// The accumulators of channels 0-15 (zmm0-11) and 16-31 (zmm12-23).
#define MOBILEONE_LOW(X)                                                       \
  X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define MOBILEONE_HIGH(X)                                                      \
  X(12) X(13) X(14) X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23)
#define MOBILEONE_ZERO(i) "vpxord %%zmm" #i ", %%zmm" #i ", %%zmm" #i "\n\t"
#define MOBILEONE_STORE(i) "vmovdqu32 %%zmm" #i ", 64*" #i "(%[out])\n\t"
#define MOBILEONE_CLOBBERS                                                     \
  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",      \
      "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16",   \
      "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24",  \
      "xmm25", "cc", "memory"

/// out[12v + r] (16 int32) = sum over the quads q of row r's bytes [4q,
/// 4q + 4) (int8) times channels [16v, 16v + 16) of quad q of `w` (128
/// unsigned bytes a quad: 2 vectors x 16 channels x 4). Assembly, as the
/// AVX2 kernel's: zmm0-23 accumulate, zmm24-25 hold the quad's weights, and
/// each row's four bytes are broadcast by the vpdpbusd that reads them.
void multiplyTile2(const int8_t *p0, size_t stride, const uint8_t *w,
                   size_t quads, int32_t *out) {
  const int8_t *p3 = p0 + 3 * stride, *p6 = p3 + 3 * stride,
               *p9 = p6 + 3 * stride;
#define MOBILEONE_ROW2(addr, a, b)                                             \
  "vpdpbusd " addr "%{1to16%}, %%zmm24, %%zmm" #a "\n\t"                       \
  "vpdpbusd " addr "%{1to16%}, %%zmm25, %%zmm" #b "\n\t"
  asm volatile(
      MOBILEONE_LOW(MOBILEONE_ZERO) MOBILEONE_HIGH(MOBILEONE_ZERO)
      "1:\n\t"
      "vmovdqu64 (%[w]), %%zmm24\n\t"
      "vmovdqu64 64(%[w]), %%zmm25\n\t" //
      MOBILEONE_ROWS(MOBILEONE_ROW2)    //
      "add $128, %[w]\n\t"
      "add $4, %[p0]\n\t"
      "add $4, %[p3]\n\t"
      "add $4, %[p6]\n\t"
      "add $4, %[p9]\n\t"
      "dec %[n]\n\t"
      "jnz 1b\n\t" //
      MOBILEONE_LOW(MOBILEONE_STORE) MOBILEONE_HIGH(MOBILEONE_STORE)
      : [w] "+r"(w), [p0] "+r"(p0), [p3] "+r"(p3), [p6] "+r"(p6),
        [p9] "+r"(p9), [n] "+r"(quads)
      : [s] "r"(stride), [out] "r"(out)
      : MOBILEONE_CLOBBERS);
#undef MOBILEONE_ROW2
}

/// multiplyTile2 for one vector of 16 channels (64 bytes a quad): out[r].
void multiplyTile1(const int8_t *p0, size_t stride, const uint8_t *w,
                   size_t quads, int32_t *out) {
  const int8_t *p3 = p0 + 3 * stride, *p6 = p3 + 3 * stride,
               *p9 = p6 + 3 * stride;
#define MOBILEONE_ROW1(addr, a, b)                                             \
  "vpdpbusd " addr "%{1to16%}, %%zmm24, %%zmm" #a "\n\t"
  asm volatile(
      MOBILEONE_LOW(MOBILEONE_ZERO)
      "1:\n\t"
      "vmovdqu64 (%[w]), %%zmm24\n\t" //
      MOBILEONE_ROWS(MOBILEONE_ROW1)  //
      "add $64, %[w]\n\t"
      "add $4, %[p0]\n\t"
      "add $4, %[p3]\n\t"
      "add $4, %[p6]\n\t"
      "add $4, %[p9]\n\t"
      "dec %[n]\n\t"
      "jnz 1b\n\t" //
      MOBILEONE_LOW(MOBILEONE_STORE)
      : [w] "+r"(w), [p0] "+r"(p0), [p3] "+r"(p3), [p6] "+r"(p6),
        [p9] "+r"(p9), [n] "+r"(quads)
      : [s] "r"(stride), [out] "r"(out)
      : MOBILEONE_CLOBBERS);
#undef MOBILEONE_ROW1
}

#undef MOBILEONE_ROWS
#undef MOBILEONE_LOW
#undef MOBILEONE_HIGH
#undef MOBILEONE_ZERO
#undef MOBILEONE_STORE
#undef MOBILEONE_CLOBBERS

class GemmVnni final : public KernelInt8 {
public:
  explicit GemmVnni(const QuantizedConv &c);
  void run(const int8_t *input, int8_t *output,
           pthreadpool_t pool) const override;

private:
  /// Output channels of block b for `count` rows, row i at rows + i x
  /// stride (the last, partial tile at `tail`), 128 x each row's sum in
  /// `corr`; the chunk's first output row at `out`.
  void block(const int8_t *rows, const int8_t *tail, size_t stride,
             const int32_t *corr, size_t count, size_t b, int8_t *out) const;

  ConvShape s;
  bool direct; ///< rows read from the input: 1x1, stride 1, no padding, K % 4 == 0
  size_t M, K, quads, N, blocks;
  int8_t inputZero;
  int32_t outputZero, lo, hi;
  std::vector<uint8_t> w;     ///< per block: [quads][vectors][16][4]
  std::vector<size_t> offset; ///< block b's first byte in w
  std::vector<Lanes16> lanes; ///< [blocks][2]
};

GemmVnni::GemmVnni(const QuantizedConv &c) : s(c.shape) {
  M = size_t(s.batch) * s.outH * s.outW;
  K = size_t(s.kernelH) * s.kernelW * s.inC;
  quads = (K + 3) / 4;
  direct = s.kernelH == 1 && s.kernelW == 1 && s.strideH == 1 &&
           s.strideW == 1 && s.padTop == 0 && s.padLeft == 0 &&
           s.inH == s.outH && s.inW == s.outW && K % 4 == 0;
  N = size_t(s.outC);
  blocks = (N + kBlock - 1) / kBlock;
  inputZero = int8_t(c.inputZero);
  outputZero = c.outputZero;
  lo = c.activationMin;
  hi = c.activationMax;
  std::vector<int64_t> sums(N, 0);
  for (size_t b = 0; b < blocks; ++b) {
    const size_t vectors = std::min(kBlock, N - b * kBlock) > 16 ? 2 : 1;
    offset.push_back(w.size());
    w.resize(w.size() + quads * vectors * 64, 0);
    uint8_t *wb = w.data() + offset.back();
    for (size_t o = b * kBlock; o < std::min(N, (b + 1) * kBlock); ++o) {
      const size_t v = (o % kBlock) / 16, j = o % 16;
      for (size_t k = 0; k < K; ++k) {
        const int8_t value = c.weights[o * K + k];
        sums[o] += value;
        wb[((k / 4) * vectors + v) * 64 + j * 4 + k % 4] =
            uint8_t(int32_t(value) + 128);
      }
    }
  }
  for (size_t b = 0; b < 2 * blocks; ++b)
    lanes.push_back(foldZero(
        lanesOf<16>(c, sums, [&](size_t j) { return b * 16 + j; }),
        c.outputZero));
}

void GemmVnni::block(const int8_t *rows, const int8_t *tail, size_t stride,
                     const int32_t *corr, size_t count, size_t b,
                     int8_t *out) const {
  const size_t n0 = b * kBlock, width = std::min(kBlock, N - n0);
  const size_t vectors = width > 16 ? 2 : 1;
  const uint8_t *wb = w.data() + offset[b];
  const __m512i zero = _mm512_set1_epi32(outputZero);
  const Clamp clamp(lo, hi);
  alignas(64) int32_t acc[kRows * 2 * 16];
  for (size_t t = 0; t < count; t += kRows) {
    const size_t valid = std::min(kRows, count - t);
    const int8_t *a = valid == kRows ? rows + t * stride : tail;
    if (vectors == 2)
      multiplyTile2(a, stride, wb, quads, acc);
    else
      multiplyTile1(a, stride, wb, quads, acc);
    for (size_t r = 0; r < valid; ++r) {
      const __m512i correction = _mm512_set1_epi32(corr[t + r]);
      int8_t *dst = out + (t + r) * N + n0;
      for (size_t v = 0; v < vectors; ++v) {
        const __m512i sum =
            _mm512_sub_epi32(load(acc + (v * kRows + r) * 16), correction);
        const __m128i bytes =
            clamp.bytes(requantize(sum, lanes[2 * b + v], zero));
        const size_t n = std::min<size_t>(16, width - 16 * v);
        if (n == 16)
          _mm_storeu_si128(reinterpret_cast<__m128i *>(dst + 16 * v), bytes);
        else
          _mm_mask_storeu_epi8(dst + 16 * v, __mmask16((1u << n) - 1), bytes);
      }
    }
  }
}

void GemmVnni::run(const int8_t *input, int8_t *output,
                   pthreadpool_t pool) const {
  // Rows per chunk: about 64 KB of int8 rows, L2-resident while every
  // weight block runs over them; with threads, at least 4 chunks per
  // thread where the rows allow, and channel groups where they do not.
  const size_t stride = direct ? K : quads * 4;
  const size_t threads = threadsOf(pool);
  auto roundUp = [](size_t v) { return (v + kRows - 1) / kRows * kRows; };
  size_t chunkRows = std::max(kRows, 65536 / stride / kRows * kRows);
  if (threads > 1)
    chunkRows = std::min(
        chunkRows, std::max(kRows, roundUp((M + 4 * threads - 1) / (4 * threads))));
  chunkRows = std::min(chunkRows, roundUp(M));
  const size_t chunks = (M + chunkRows - 1) / chunkRows;
  size_t groups = 1;
  if (chunks < 2 * threads)
    groups = std::min(blocks, (2 * threads + chunks - 1) / chunks);
  const size_t perGroup = (blocks + groups - 1) / groups;
  const int8_t *inputEnd = input + size_t(s.batch) * s.inH * s.inW * s.inC;
  auto task = [&](size_t i) {
    const size_t chunk = i / groups, group = i % groups;
    const size_t m0 = chunk * chunkRows, count = std::min(chunkRows, M - m0);
    const size_t full = count / kRows * kRows;
    // The packed rows (im2col, or the direct layer's last partial tile),
    // 32 spare bytes for im2colRow, and 128 x each row's sum.
    thread_local std::vector<int8_t> packed;
    thread_local std::vector<int32_t> corr;
    const size_t packedRows = direct ? kRows : roundUp(count);
    if (packed.size() < packedRows * stride + 32)
      packed.resize(packedRows * stride + 32);
    if (corr.size() < count)
      corr.resize(count);
    const int8_t *rows = packed.data(), *tail = packed.data();
    if (direct) {
      rows = input + m0 * K;
      if (full < count) {
        std::memcpy(packed.data(), rows + full * K, (count - full) * K);
        std::memset(packed.data() + (count - full) * K, 0,
                    (kRows - (count - full)) * K);
      }
    } else {
      for (size_t r = 0; r < count; ++r) {
        int8_t *dst = packed.data() + r * stride;
        im2colRow(s, input, inputEnd, m0 + r, inputZero, dst);
        std::fill(dst + K, dst + stride, int8_t(0));
      }
      std::fill(packed.data() + count * stride,
                packed.data() + packedRows * stride, int8_t(0));
      tail = packed.data() + full * stride;
    }
    for (size_t r = 0; r < count; ++r)
      corr[r] = int32_t(uint32_t(128) * uint32_t(rowSum(rows + r * stride, K)));
    const size_t b1 = std::min(blocks, (group + 1) * perGroup);
    for (size_t b = group * perGroup; b < b1; ++b)
      block(rows, tail, stride, corr.data(), count, b, output + m0 * N);
  };
  parallel(pool, chunks * groups, task);
}

/// Depthwise convolution (any kernel up to 64 taps, multiplier 1): 32
/// channels of one output pixel per step, two taps per vpdpwssd (their
/// int8 values widened to int16 and interleaved by vpunpck{l,h}wd, the
/// weights interleaved to match at creation), the products summed into the
/// accumulator by the same instruction; taps outside the image read a row
/// of zero points. As the AVX2 kernel of KernelsInt8.cpp at twice the width.
class DepthwiseVnni final : public KernelInt8 {
public:
  explicit DepthwiseVnni(const QuantizedConv &c);
  void run(const int8_t *input, int8_t *output,
           pthreadpool_t pool) const override;

private:
  template <int Pairs>
  void rows(const int8_t *in, int8_t *out, size_t row0, size_t count) const;

  ConvShape s;
  size_t C, pairs, groups;
  int32_t outputZero, lo, hi;
  std::vector<int8_t> zeroRow;   ///< groups x 32 bytes of the input zero point
  std::vector<int32_t> w;        ///< [groups][pairs][2][16] int16 pairs
  std::vector<Lanes16> lanes;    ///< [groups][2]
};

/// The channel of lane j of the low (half 0) or high (half 1) accumulator
/// of a 32-channel group: vpunpck{l,h}wd interleave within 128-bit lanes,
/// so lane j holds channel 8 (j / 4) + 4 half + j % 4.
size_t depthwiseChannel(size_t half, size_t j) {
  return 8 * (j / 4) + 4 * half + j % 4;
}

DepthwiseVnni::DepthwiseVnni(const QuantizedConv &c) : s(c.shape) {
  C = size_t(s.outC);
  pairs = (size_t(s.kernelH) * s.kernelW + 1) / 2;
  groups = (C + 31) / 32;
  outputZero = c.outputZero;
  lo = c.activationMin;
  hi = c.activationMax;
  zeroRow.assign(groups * 32, int8_t(c.inputZero));
  const std::vector<int64_t> sums =
      packDepthwisePairs<32>(c, depthwiseChannel, w);
  for (size_t g = 0; g < groups; ++g)
    for (size_t half = 0; half < 2; ++half)
      lanes.push_back(foldZero(lanesOf<16>(c, sums,
                                           [&](size_t j) {
                                             return g * 32 +
                                                    depthwiseChannel(half, j);
                                           }),
                               c.outputZero));
}

/// One output pixel's 32 channels [offset, offset + 32) of `tap`, in
/// channel order. `Pairs` > 0: a fixed count (the loop unrolled); 0:
/// `pairs` at run time.
template <int Pairs>
inline __m256i depthwiseGroup(const int8_t *const *tap, size_t offset,
                              const int32_t *wg, size_t pairs,
                              const Lanes16 *lanes, __m512i zero,
                              const Clamp &clamp) {
  __m512i accLo = _mm512_setzero_si512(), accHi = accLo;
  const size_t n = Pairs > 0 ? size_t(Pairs) : pairs;
#pragma GCC unroll 8
  for (size_t p = 0; p < n; ++p, wg += 32) {
    const __m512i a = _mm512_cvtepi8_epi16(_mm256_loadu_si256(
        reinterpret_cast<const __m256i *>(tap[2 * p] + offset)));
    const __m512i b = _mm512_cvtepi8_epi16(_mm256_loadu_si256(
        reinterpret_cast<const __m256i *>(tap[2 * p + 1] + offset)));
    accLo = _mm512_dpwssd_epi32(accLo, _mm512_unpacklo_epi16(a, b), load(wg));
    accHi =
        _mm512_dpwssd_epi32(accHi, _mm512_unpackhi_epi16(a, b), load(wg + 16));
  }
  // Dwords of 4 channels: low (0-3, 8-11, 16-19, 24-27), high (4-7, ...).
  const __m128i l = clamp.bytes(requantize(accLo, lanes[0], zero)),
                h = clamp.bytes(requantize(accHi, lanes[1], zero));
  return _mm256_set_m128i(_mm_unpackhi_epi32(l, h), _mm_unpacklo_epi32(l, h));
}

template <int Pairs>
void DepthwiseVnni::rows(const int8_t *in, int8_t *out, size_t row0,
                         size_t count) const {
  const __m512i zero = _mm512_set1_epi32(outputZero);
  const Clamp clamp(lo, hi);
  depthwiseRows<32>(
      s, 2 * pairs, zeroRow.data(), in, out, row0, count,
      [&](const int8_t *const *tap, size_t offset, size_t g, int8_t *dst,
          size_t width) {
        const __m256i v =
            depthwiseGroup<Pairs>(tap, offset, w.data() + g * pairs * 32,
                                  pairs, &lanes[2 * g], zero, clamp);
        if (width == 32)
          _mm256_storeu_si256(reinterpret_cast<__m256i *>(dst), v);
        else
          _mm256_mask_storeu_epi8(dst, __mmask32((uint64_t(1) << width) - 1),
                                  v);
      });
}

void DepthwiseVnni::run(const int8_t *input, int8_t *output,
                        pthreadpool_t pool) const {
  depthwiseRun(s, pool, [&](size_t row0, size_t count) {
    if (pairs == 5) // 3x3
      rows<5>(input, output, row0, count);
    else if (pairs == 1) // 1x1: a per-channel scale
      rows<1>(input, output, row0, count);
    else
      rows<0>(input, output, row0, count);
  });
}

} // namespace

void mobileone::runtime::kernels::detail::addInt8Vnni(const AddInt8 &m) {
  // As addInt8Avx2, 16 lanes at a time, the last ones masked.
  const Lanes16 pa = uniformLanes<16>(m.multiplierA, m.shiftA),
                pb = uniformLanes<16>(m.multiplierB, m.shiftB),
                po = foldZero(uniformLanes<16>(m.multiplier, m.shift),
                              m.outputZero);
  const __m512i za = _mm512_set1_epi32(m.zeroA), zb = _mm512_set1_epi32(m.zeroB);
  const __m512i zero = _mm512_set1_epi32(m.outputZero),
                none = _mm512_setzero_si512();
  const Clamp clamp(m.activationMin, m.activationMax);
  for (size_t i = 0; i < m.elements; i += 16) {
    const size_t n = std::min<size_t>(16, m.elements - i);
    const __mmask16 mask = __mmask16((1u << n) - 1);
    // (q - z) << 20 fits int32: |q - z| <= 255.
    const __m512i a = _mm512_sub_epi32(
        _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, m.a + i)), za);
    const __m512i b = _mm512_sub_epi32(
        _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, m.b + i)), zb);
    const __m512i sa = requantize(_mm512_slli_epi32(a, 20), pa, none);
    const __m512i sb = requantize(_mm512_slli_epi32(b, 20), pb, none);
    const __m512i v = requantize(
        m.subtract ? _mm512_sub_epi32(sa, sb) : _mm512_add_epi32(sa, sb), po,
        zero);
    _mm_mask_storeu_epi8(m.out + i, mask, clamp.bytes(v));
  }
}

std::unique_ptr<KernelInt8>
mobileone::runtime::kernels::detail::createGemmInt8Vnni(
    const QuantizedConv &c) {
  return std::make_unique<GemmVnni>(c);
}

std::unique_ptr<KernelInt8>
mobileone::runtime::kernels::detail::createDepthwiseInt8Vnni(
    const QuantizedConv &c) {
  return std::make_unique<DepthwiseVnni>(c);
}

#pragma GCC pop_options
