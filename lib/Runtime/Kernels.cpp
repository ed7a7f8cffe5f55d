//===- Kernels.cpp - native AVX-512 convolution kernels -------------------===//
//
// Compiled for AVX-512F (see lib/CMakeLists.txt) and only entered after
// available() said the CPU has it.
//
// A 1x1 convolution is a GEMM over output pixels (rows of A, the input
// itself): weights are packed once into panels of 32 output channels
// ([K][32], bias separate), and a 14x32 register tile (28 zmm accumulators)
// runs the K loop with one broadcast per row and two weight vectors per
// step. A block of rows (a whole 14x14 or 7x7 map) is packed once and every
// weight panel streams past it once, instead of once per 7 rows as in
// XNNPACK 2022-02's single-thread order; weights that stay in L2 are left to
// XNNPACK.
//
// Depthwise 3x3 (stride 1) keeps the nine weight vectors of a 16-channel
// group in registers and computes four outputs of two rows at a time, so
// each of the four input rows is loaded once per step.
//
// A stem (few input channels) is a direct convolution: tiles of pixels x 64
// channels accumulate over its taps without im2col.
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
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

using namespace mobileone::runtime::kernels;

namespace {

struct FreeDeleter {
  void operator()(float *p) const { std::free(p); }
};
using AlignedFloats = std::unique_ptr<float[], FreeDeleter>;

/// Zero-filled, 64-byte aligned.
AlignedFloats allocate(size_t floats) {
  size_t bytes = std::max<size_t>(64, (floats * sizeof(float) + 63) / 64 * 64);
  auto *p = static_cast<float *>(std::aligned_alloc(64, bytes));
  if (!p)
    throw std::bad_alloc();
  std::memset(p, 0, bytes);
  return AlignedFloats(p);
}

__mmask16 tailMask(int lanes) {
  return lanes >= 16 ? __mmask16(0xffff) : __mmask16((1u << lanes) - 1);
}

/// As XNNPACK runs: denormals flushed to zero (a null pool runs the work on
/// the calling thread, under the same flag).
constexpr uint32_t kPoolFlags = PTHREADPOOL_FLAG_DISABLE_DENORMALS;

/// Register tiles use at most 28 of the 32 zmm registers as accumulators.
constexpr int kAccumulators = 28;

/// acc[r][v] = the bias vectors.
template <int R, int NV>
inline void loadBias(__m512 (&acc)[R][NV], const float *bias) {
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      acc[r][v] = _mm512_load_ps(bias + 16 * v);
}

/// Row r of the tile to out + r * stride, clamped to [lo, hi]; the last
/// vector of each row under `lastMask`.
template <int R, int NV>
inline void storeClamped(const __m512 (&acc)[R][NV], float *out, size_t stride,
                         __mmask16 lastMask, float lo, float hi) {
  const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      __m512 y = _mm512_min_ps(vhi, _mm512_max_ps(vlo, acc[r][v]));
      if (v == NV - 1)
        _mm512_mask_storeu_ps(out + r * stride + 16 * v, lastMask, y);
      else
        _mm512_storeu_ps(out + r * stride + 16 * v, y);
    }
}

//===----------------------------------------------------------------------===//
// 1x1 convolution as GEMM
//===----------------------------------------------------------------------===//

/// Numbers every GEMM run in the process, so a thread's cached packed block
/// (keyed by operator, run and block) is never mistaken for another run's,
/// even of an operator allocated where a destroyed one was.
std::atomic<uint64_t> runCounter{0};

/// The register tile: 14 rows x 2 vectors. (7 x 64 and 7 x 32 measured no
/// faster on MobileOne's layers.)
constexpr int kTileRows = 14;
constexpr int kPanelVectors = 2;
constexpr int kPanelCols = 16 * kPanelVectors;
/// Weights up to this size stay in L2 under XNNPACK's order, which is then
/// the faster one (see convBeatsXnnpack).
constexpr size_t kL2ResidentWeightBytes = 256u << 10;

/// C[MR x 16*NV] = clamp(bias + A * B) over k steps, A packed [k][MR] (one
/// stream at constant offsets), B packed [k][16*NV]. Each step also
/// prefetches one line of [pf, pfEnd), `pfStride` bytes apart: the weights
/// the next tiles need, fetched evenly instead of in a burst when they
/// arrive.
template <int MR, int NV>
void gemmTile(size_t k, const float *a, const float *b, const float *bias,
              float *c, size_t ldc, __mmask16 lastMask, float lo, float hi,
              const char *pf, const char *pfEnd, size_t pfStride) {
  __m512 acc[MR][NV];
  loadBias(acc, bias);
  for (size_t i = 0; i < k; ++i, a += MR, b += 16 * NV) {
    if (pf < pfEnd) {
      _mm_prefetch(pf, _MM_HINT_T1);
      pf += pfStride;
    }
    __m512 w[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      w[v] = _mm512_load_ps(b + 16 * v);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      __m512 x = _mm512_set1_ps(a[r]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v)
        acc[r][v] = _mm512_fmadd_ps(x, w[v], acc[r][v]);
    }
  }
  storeClamped(acc, c, ldc, lastMask, lo, hi);
}

using TileFn = void (*)(size_t, const float *, const float *, const float *,
                        float *, size_t, __mmask16, float, float, const char *,
                        const char *, size_t);

template <int NV, size_t... MR>
constexpr auto makeTileTable(std::index_sequence<MR...>) {
  return std::array<TileFn, sizeof...(MR)>{&gemmTile<int(MR) + 1, NV>...};
}
template <size_t... NV>
constexpr auto makeTileTables(std::index_sequence<NV...>) {
  return std::array<std::array<TileFn, kTileRows>, sizeof...(NV)>{
      makeTileTable<int(NV) + 1>(std::make_index_sequence<kTileRows>())...};
}
static_assert(kTileRows * kPanelVectors <= kAccumulators);

/// tileTable[NV - 1][MR - 1].
const std::array<std::array<TileFn, kTileRows>, kPanelVectors> tileTable =
    makeTileTables(std::make_index_sequence<kPanelVectors>());

/// In-register transpose of a 16x16 block: r[c] becomes column c.
inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int j = 0; j < 16; j += 2) {
    t[j] = _mm512_unpacklo_ps(r[j], r[j + 1]);
    t[j + 1] = _mm512_unpackhi_ps(r[j], r[j + 1]);
  }
  auto lo = [](__m512 a, __m512 b) {
    return _mm512_castpd_ps(
        _mm512_unpacklo_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)));
  };
  auto hi = [](__m512 a, __m512 b) {
    return _mm512_castpd_ps(
        _mm512_unpackhi_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)));
  };
  for (int j = 0; j < 16; j += 4) {
    r[j] = lo(t[j], t[j + 2]);
    r[j + 1] = hi(t[j], t[j + 2]);
    r[j + 2] = lo(t[j + 1], t[j + 3]);
    r[j + 3] = hi(t[j + 1], t[j + 3]);
  }
  for (int j = 0; j < 16; j += 8)
    for (int q = 0; q < 4; ++q) {
      t[j + q] = _mm512_shuffle_f32x4(r[j + q], r[j + q + 4], 0x88);
      t[j + q + 4] = _mm512_shuffle_f32x4(r[j + q], r[j + q + 4], 0xdd);
    }
  for (int q = 0; q < 8; ++q) {
    r[q] = _mm512_shuffle_f32x4(t[q], t[q + 8], 0x88);
    r[q + 8] = _mm512_shuffle_f32x4(t[q], t[q + 8], 0xdd);
  }
}

/// dst[i * rows + r] = a[r * lda + i]: a tile of `rows` (at most 16) rows
/// of A in the streamed kernel's layout, 16 columns per transpose.
void packTile(const float *a, size_t lda, size_t rows, size_t k, float *dst) {
  const __mmask16 lanes = tailMask(int(rows));
  size_t i = 0;
  for (; i + 16 <= k; i += 16) {
    __m512 r[16];
    for (size_t j = 0; j < 16; ++j)
      r[j] = j < rows ? _mm512_loadu_ps(a + j * lda + i) : _mm512_setzero_ps();
    transpose16(r);
    for (size_t c = 0; c < 16; ++c)
      _mm512_mask_storeu_ps(dst + (i + c) * rows, lanes, r[c]);
  }
  for (; i < k; ++i)
    for (size_t r = 0; r < rows; ++r)
      dst[i * rows + r] = a[r * lda + i];
}

/// 1x1, stride 1, no padding: output pixel m is input row m.
class ConvGemm : public Kernel {
public:
  ConvGemm(const ConvShape &s, const float *weights, const float *bias);
  void run(const float *input, float *output,
           pthreadpool_t pool) const override;
  bool splitsByChannel() const override { return true; }

private:
  struct Task {
    const ConvGemm *self;
    const float *input;
    float *output;
    uint64_t run;
  };
  static void runTask(void *task, size_t block, size_t panel);
  void computePanel(const float *packedA, size_t m0, size_t rows, size_t p,
                    float *output) const;

  ConvShape s;
  size_t k, m, blockRows;
  std::vector<size_t> panelOffset; ///< per panel, then the end
  AlignedFloats packed, bias;
};

ConvGemm::ConvGemm(const ConvShape &s, const float *weights,
                   const float *biasIn)
    : s(s) {
  k = size_t(s.inC);
  m = size_t(s.batch) * s.outH * s.outW;
  size_t n = s.outC, total = 0;
  for (size_t c = 0; c < n; c += kPanelCols) {
    panelOffset.push_back(total);
    total += k * 16 * std::min<size_t>(kPanelVectors, (n - c + 15) / 16);
  }
  panelOffset.push_back(total);
  packed = allocate(total);
  bias = allocate((n + kPanelCols - 1) / kPanelCols * kPanelCols);
  for (size_t p = 0; p + 1 < panelOffset.size(); ++p) {
    size_t width = (panelOffset[p + 1] - panelOffset[p]) / k;
    float *dst = packed.get() + panelOffset[p];
    for (size_t j = 0; j < width && p * kPanelCols + j < n; ++j) {
      const float *src = weights + (p * kPanelCols + j) * k;
      for (size_t i = 0; i < k; ++i)
        dst[i * width + j] = src[i];
    }
  }
  if (biasIn)
    std::memcpy(bias.get(), biasIn, n * sizeof(float));

  // Weights stream from memory once per block of at most 1 MiB of rows (a
  // whole 14x14 or 7x7 map of MobileOne; half that measured 1-3% slower).
  size_t bytes = m * k * sizeof(float), budget = 1u << 20;
  size_t blocks = std::max<size_t>(1, (bytes + budget - 1) / budget);
  blockRows = (m + blocks - 1) / blocks;
  blockRows = (blockRows + kTileRows - 1) / kTileRows * kTileRows;
}

/// One panel over a block of rows packed tile by tile ([k][tile rows], so
/// each tile of A is one stream), prefetching the next panel meanwhile.
void ConvGemm::computePanel(const float *packedA, size_t m0, size_t rows,
                            size_t p, float *output) const {
  const size_t tiles = (rows + kTileRows - 1) / kTileRows;
  if (tiles == 0 || k == 0)
    return;
  const char *next = nullptr;
  size_t share = 0, stride = 64;
  if (p + 2 < panelOffset.size()) {
    next = reinterpret_cast<const char *>(packed.get() + panelOffset[p + 1]);
    size_t bytes = (panelOffset[p + 2] - panelOffset[p + 1]) * sizeof(float);
    share = (bytes / tiles + 63) / 64 * 64;
    stride = std::max<size_t>(64, (share / k + 63) / 64 * 64);
  }
  const size_t n = s.outC, col = p * kPanelCols;
  const size_t cols = std::min<size_t>(kPanelCols, n - col);
  const int nv = int((cols + 15) / 16);
  const __mmask16 lastMask = tailMask(int(cols - 16 * (nv - 1)));
  for (size_t t = 0; t < tiles; ++t) {
    const char *pf = next ? next + t * share : nullptr;
    size_t r = t * kTileRows, mr = std::min<size_t>(kTileRows, rows - r);
    tileTable[nv - 1][mr - 1](k, packedA + r * k, packed.get() + panelOffset[p],
                              bias.get() + col, output + (m0 + r) * n + col, n,
                              lastMask, s.outMin, s.outMax, pf,
                              pf ? pf + share : nullptr, stride);
  }
}

void ConvGemm::runTask(void *context, size_t block, size_t panel) {
  const Task &t = *static_cast<const Task *>(context);
  const ConvGemm &g = *t.self;
  size_t m0 = block * g.blockRows, rows = std::min(g.blockRows, g.m - m0);
  // A thread runs its panels of a block one after the other: pack the
  // block once per (operator, run, block).
  thread_local std::vector<float> packedA;
  thread_local struct {
    const ConvGemm *op = nullptr;
    uint64_t run = 0;
    size_t block = 0;
  } packedFor;
  if (packedFor.op != &g || packedFor.run != t.run ||
      packedFor.block != block) {
    packedA.resize(rows * g.k);
    const float *a = t.input + m0 * g.k;
    for (size_t r0 = 0; r0 < rows; r0 += kTileRows)
      packTile(a + r0 * g.k, g.k, std::min<size_t>(kTileRows, rows - r0), g.k,
               packedA.data() + r0 * g.k);
    packedFor = {&g, t.run, block};
  }
  g.computePanel(packedA.data(), m0, rows, panel, t.output);
}

void ConvGemm::run(const float *input, float *output,
                   pthreadpool_t pool) const {
  // One task per (block, panel); a thread's tasks are consecutive panels of
  // a block, so each panel is read by one thread.
  Task task{this, input, output, ++runCounter};
  size_t blocks = (m + blockRows - 1) / blockRows;
  pthreadpool_parallelize_2d(pool, &ConvGemm::runTask, &task, blocks,
                             panelOffset.size() - 1, kPoolFlags);
}

//===----------------------------------------------------------------------===//
// Depthwise 3x3
//===----------------------------------------------------------------------===//

/// Stride 1, no dilation, multiplier 1, any padding.
class Depthwise3x3 : public Kernel {
public:
  Depthwise3x3(const ConvShape &s, const float *weights, const float *bias);
  void run(const float *input, float *output,
           pthreadpool_t pool) const override;
  void preferChannelSplit() override { channelSplit = true; }
  bool splitsByChannel() const override { return channelSplit; }

private:
  struct Task {
    const Depthwise3x3 *self;
    const float *input;
    float *output;
    size_t chunksPerGroup;
  };
  static void runUnit(void *task, size_t unit);
  static void runGroupUnit(void *task, size_t group, size_t unit);
  /// Work unit u: output rows 2u and 2u + 1 of an image (the last of an
  /// odd height alone), channel groups c0 .. c1.
  void unit(const float *input, float *output, size_t u, int c0, int c1) const;
  template <int NR>
  void outputRows(const float *input, float *output, size_t b, long oy, int c0,
                  int c1) const;
  void single(const float *const rows[3], float *out, int ox, int chunk) const;

  ConvShape s;
  int chunks;
  int xLo, xHi; ///< outputs whose three taps are inside the row
  bool channelSplit = false;
  AlignedFloats weights, bias, zeros;
};

Depthwise3x3::Depthwise3x3(const ConvShape &s, const float *w,
                           const float *biasIn)
    : s(s), chunks((s.inC + 15) / 16) {
  weights = allocate(size_t(chunks) * 9 * 16);
  bias = allocate(size_t(chunks) * 16);
  zeros = allocate(size_t(s.inW) * s.inC + 16);
  for (int c = 0; c < s.inC; ++c) {
    for (int t = 0; t < 9; ++t)
      weights[(size_t(c / 16) * 9 + t) * 16 + c % 16] =
          w[size_t(t) * s.inC + c];
    if (biasIn)
      bias[c] = biasIn[c];
  }
  xLo = std::min(s.outW, s.padLeft);
  xHi = std::min(s.outW - 1, s.inW - 3 + s.padLeft);
}

/// Output `ox` of one 16-channel group, skipping taps outside the row.
void Depthwise3x3::single(const float *const rows[3], float *out, int ox,
                          int chunk) const {
  const size_t c = size_t(s.inC);
  const int ch = chunk * 16;
  const __mmask16 mask = tailMask(s.inC - ch);
  const float *wp = weights.get() + size_t(chunk) * 9 * 16;
  __m512 acc = _mm512_load_ps(bias.get() + ch);
  for (int kx = 0; kx < 3; ++kx) {
    long ix = long(ox) - s.padLeft + kx;
    if (ix < 0 || ix >= s.inW)
      continue;
    for (int ky = 0; ky < 3; ++ky)
      acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, rows[ky] + ix * c + ch),
                            _mm512_load_ps(wp + 16 * (ky * 3 + kx)), acc);
  }
  acc = _mm512_max_ps(_mm512_set1_ps(s.outMin), acc); // a NaN stays
  acc = _mm512_min_ps(_mm512_set1_ps(s.outMax), acc);
  _mm512_mask_storeu_ps(out + ox * c + ch, mask, acc);
}

/// NR (1 or 2) output rows from oy: the NR + 2 input rows they read are
/// each loaded once per step of four pixels (for two rows, 24 loads for 72
/// FMAs against 18 for 36 one row at a time). All channel groups of four
/// pixels go before the next four, so the input is read in address order.
template <int NR>
void Depthwise3x3::outputRows(const float *input, float *output, size_t b,
                              long oy, int c0, int c1) const {
  const size_t c = size_t(s.inC);
  const float *rows[NR + 2];
  for (int r = 0; r < NR + 2; ++r) {
    long iy = oy - s.padTop + r;
    rows[r] = iy < 0 || iy >= s.inH
                  ? zeros.get()
                  : input + (b * s.inH + iy) * size_t(s.inW) * s.inC;
  }
  float *out[NR];
  for (int o = 0; o < NR; ++o)
    out[o] = output + (b * s.outH + oy + o) * size_t(s.outW) * c;
  const __m512 lo = _mm512_set1_ps(s.outMin), hi = _mm512_set1_ps(s.outMax);
  // Four outputs of each row from `ox`; Checked: columns outside the row
  // read as zeros.
  auto tile = [&](long ox, auto checked) {
    const long ix0 = ox - s.padLeft;
    for (int chunk = c0; chunk < c1; ++chunk) {
      const int ch = chunk * 16;
      const __mmask16 mask = tailMask(s.inC - ch);
      const float *wp = weights.get() + size_t(chunk) * 9 * 16;
      __m512 w[9];
#pragma GCC unroll 9
      for (int t = 0; t < 9; ++t)
        w[t] = _mm512_load_ps(wp + 16 * t);
      const __m512 bv = _mm512_load_ps(bias.get() + ch);
      __m512 acc[NR][4];
#pragma GCC unroll 2
      for (int o = 0; o < NR; ++o)
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i)
          acc[o][i] = bv;
#pragma GCC unroll 4
      for (int r = 0; r < NR + 2; ++r) {
        __m512 in[6];
#pragma GCC unroll 6
        for (int j = 0; j < 6; ++j) {
          long ix = ix0 + j;
          in[j] = !decltype(checked)::value || (ix >= 0 && ix < s.inW)
                      ? _mm512_maskz_loadu_ps(mask, rows[r] + ix * c + ch)
                      : _mm512_setzero_ps();
        }
#pragma GCC unroll 2
        for (int o = 0; o < NR; ++o) {
          const int ky = r - o;
          if (ky < 0 || ky > 2)
            continue;
#pragma GCC unroll 3
          for (int kx = 0; kx < 3; ++kx)
#pragma GCC unroll 4
            for (int i = 0; i < 4; ++i)
              acc[o][i] =
                  _mm512_fmadd_ps(in[i + kx], w[ky * 3 + kx], acc[o][i]);
        }
      }
#pragma GCC unroll 2
      for (int o = 0; o < NR; ++o)
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i)
          _mm512_mask_storeu_ps(
              out[o] + (ox + i) * c + ch, mask,
              _mm512_min_ps(hi, _mm512_max_ps(lo, acc[o][i])));
    }
  };
  using Checked = std::true_type;
  using Unchecked = std::false_type;
  if (s.outW < 4) {
    for (int ox = 0; ox < s.outW; ++ox)
      for (int chunk = c0; chunk < c1; ++chunk)
        for (int o = 0; o < NR; ++o)
          single(rows + o, out[o], ox, chunk);
    return;
  }
  // Checked steps at each end (the last may overlap the one before it:
  // same values), unchecked steps between. With two or more columns of
  // right padding, more than one checked step may remain.
  long ox = 0;
  for (; ox < xLo && ox < s.outW; ox += 4) // any left padding, even > 4
    tile(std::min(ox, long(s.outW) - 4), Checked());
  for (; ox + 3 <= xHi; ox += 4)
    tile(ox, Unchecked());
  for (; ox < s.outW; ox += 4)
    tile(std::min(ox, long(s.outW) - 4), Checked());
}

void Depthwise3x3::unit(const float *input, float *output, size_t u, int c0,
                        int c1) const {
  size_t perImage = (s.outH + 1) / 2, b = u / perImage;
  long oy = long(u % perImage) * 2;
  if (oy + 1 < s.outH)
    outputRows<2>(input, output, b, oy, c0, c1);
  else
    outputRows<1>(input, output, b, oy, c0, c1);
}

void Depthwise3x3::runUnit(void *context, size_t u) {
  const Task &t = *static_cast<const Task *>(context);
  t.self->unit(t.input, t.output, u, 0, t.self->chunks);
}

void Depthwise3x3::runGroupUnit(void *context, size_t group, size_t u) {
  const Task &t = *static_cast<const Task *>(context);
  int c0 = int(group * t.chunksPerGroup);
  int c1 = std::min(t.self->chunks, int((group + 1) * t.chunksPerGroup));
  t.self->unit(t.input, t.output, u, c0, c1);
}

void Depthwise3x3::run(const float *input, float *output,
                       pthreadpool_t pool) const {
  Task task{this, input, output, 0};
  size_t units = size_t(s.batch) * ((s.outH + 1) / 2);
  size_t threads = pool ? pthreadpool_get_threads_count(pool) : 1;
  if (channelSplit && threads > 1) {
    // Thread i takes the i-th range of channels of every row: the range the
    // producer's thread i wrote, still in that core's cache.
    task.chunksPerGroup = (size_t(chunks) + threads - 1) / threads;
    size_t groups =
        (size_t(chunks) + task.chunksPerGroup - 1) / task.chunksPerGroup;
    pthreadpool_parallelize_2d(pool, &Depthwise3x3::runGroupUnit, &task, groups,
                               units, kPoolFlags);
    return;
  }
  pthreadpool_parallelize_1d(pool, &Depthwise3x3::runUnit, &task, units,
                             kPoolFlags);
}

//===----------------------------------------------------------------------===//
// Direct convolution of few input channels (a stem)
//===----------------------------------------------------------------------===//

/// R consecutive output pixels x 16*NV channels: for each tap (ky, kx, c)
/// one weight row and one broadcast input per pixel. `p` is pixel 0's
/// window origin, pixels `step` floats apart, taps at `tapOffset`.
template <int R, int NV>
void directTile(const float *p, size_t step, const ptrdiff_t *tapOffset,
                int taps, const float *w, const float *bias, float *out,
                size_t outStep, __mmask16 lastMask, float lo, float hi) {
  __m512 acc[R][NV];
  loadBias(acc, bias);
  for (int t = 0; t < taps; ++t, w += 16 * NV) {
    const float *q = p + tapOffset[t];
    __m512 wv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      wv[v] = _mm512_load_ps(w + 16 * v);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      __m512 x = _mm512_set1_ps(q[r * step]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v)
        acc[r][v] = _mm512_fmadd_ps(x, wv[v], acc[r][v]);
    }
  }
  storeClamped(acc, out, outStep, lastMask, lo, hi);
}

using DirectFn = void (*)(const float *, size_t, const ptrdiff_t *, int,
                          const float *, const float *, float *, size_t,
                          __mmask16, float, float);
constexpr int kDirectMaxPixels = 14;

template <int R, int NV> constexpr DirectFn directEntry() {
  if constexpr (R * NV <= kAccumulators)
    return &directTile<R, NV>;
  else
    return nullptr;
}
template <int NV, size_t... R>
constexpr auto makeDirectTable(std::index_sequence<R...>) {
  return std::array<DirectFn, sizeof...(R)>{directEntry<int(R) + 1, NV>()...};
}
/// directTable[NV - 1][R - 1], null beyond 28 accumulators.
const std::array<std::array<DirectFn, kDirectMaxPixels>, 4> directTable = {
    makeDirectTable<1>(std::make_index_sequence<kDirectMaxPixels>()),
    makeDirectTable<2>(std::make_index_sequence<kDirectMaxPixels>()),
    makeDirectTable<3>(std::make_index_sequence<kDirectMaxPixels>()),
    makeDirectTable<4>(std::make_index_sequence<kDirectMaxPixels>())};

/// Output channels in groups of up to 64 (four vectors); each group sweeps
/// a row in tiles of as many pixels as its accumulators allow. Windows that
/// leave the input take a bounds-checked path.
class DirectConv : public Kernel {
public:
  DirectConv(const ConvShape &s, const float *weights, const float *bias);
  void run(const float *input, float *output,
           pthreadpool_t pool) const override;

private:
  struct Task {
    const DirectConv *self;
    const float *input;
    float *output;
  };
  struct Group {
    int channel, vectors, pixels;
    size_t offset; ///< of its [taps][16 * vectors] weights
  };
  static void runRow(void *task, size_t row);
  void border(const float *input, size_t b, long iy0, long ix0, const Group &g,
              float *out) const;

  ConvShape s;
  int taps;
  std::vector<ptrdiff_t> tapOffset; ///< from the window origin, in floats
  std::vector<Group> groups;
  int xLo, xHi; ///< outputs whose window is inside the row
  AlignedFloats weights, bias;
};

DirectConv::DirectConv(const ConvShape &s, const float *w, const float *b)
    : s(s), taps(s.kernelH * s.kernelW * s.inC) {
  for (int ky = 0; ky < s.kernelH; ++ky)
    for (int kx = 0; kx < s.kernelW; ++kx)
      for (int c = 0; c < s.inC; ++c)
        tapOffset.push_back((ptrdiff_t(ky) * s.dilationH * s.inW +
                             ptrdiff_t(kx) * s.dilationW) *
                                s.inC +
                            c);
  size_t total = 0;
  for (int c = 0; c < s.outC; c += 64) {
    Group g;
    g.channel = c;
    g.vectors = std::min(4, (s.outC - c + 15) / 16);
    g.pixels = std::min(kDirectMaxPixels, kAccumulators / g.vectors);
    g.offset = total;
    total += size_t(taps) * 16 * g.vectors;
    groups.push_back(g);
  }
  weights = allocate(total);
  bias = allocate(size_t(groups.size()) * 64);
  for (const Group &g : groups)
    for (int j = 0; j < 16 * g.vectors && g.channel + j < s.outC; ++j) {
      for (int t = 0; t < taps; ++t)
        weights[g.offset + size_t(t) * 16 * g.vectors + j] =
            w[size_t(g.channel + j) * taps + t];
      if (b)
        bias[g.channel + j] = b[g.channel + j];
    }
  long extentW = long(s.kernelW - 1) * s.dilationW;
  xLo = std::min(s.outW, (s.padLeft + s.strideW - 1) / s.strideW);
  long last = s.inW - 1 - extentW + s.padLeft;
  xHi = last < 0 ? -1 : int(std::min<long>(s.outW - 1, last / s.strideW));
}

/// One output pixel's channel group, skipping taps outside the input.
void DirectConv::border(const float *input, size_t b, long iy0, long ix0,
                        const Group &g, float *out) const {
  __m512 acc[4];
  for (int v = 0; v < g.vectors; ++v)
    acc[v] = _mm512_load_ps(bias.get() + g.channel + 16 * v);
  const float *w = weights.get() + g.offset;
  for (int ky = 0; ky < s.kernelH; ++ky) {
    long iy = iy0 + long(ky) * s.dilationH;
    for (int kx = 0; kx < s.kernelW; ++kx) {
      long ix = ix0 + long(kx) * s.dilationW;
      const float *wt =
          w + size_t((ky * s.kernelW + kx) * s.inC) * 16 * g.vectors;
      if (iy < 0 || iy >= s.inH || ix < 0 || ix >= s.inW)
        continue;
      const float *px = input + ((b * s.inH + iy) * s.inW + ix) * s.inC;
      for (int c = 0; c < s.inC; ++c) {
        __m512 x = _mm512_set1_ps(px[c]);
        for (int v = 0; v < g.vectors; ++v)
          acc[v] = _mm512_fmadd_ps(
              x, _mm512_load_ps(wt + (size_t(c) * g.vectors + v) * 16), acc[v]);
      }
    }
  }
  const __mmask16 last = tailMask(s.outC - g.channel - 16 * (g.vectors - 1));
  for (int v = 0; v < g.vectors; ++v) {
    __m512 y = _mm512_min_ps(_mm512_set1_ps(s.outMax),
                             _mm512_max_ps(_mm512_set1_ps(s.outMin), acc[v]));
    _mm512_mask_storeu_ps(out + g.channel + 16 * v,
                          v == g.vectors - 1 ? last : __mmask16(0xffff), y);
  }
}

void DirectConv::runRow(void *context, size_t row) {
  const Task &t = *static_cast<const Task *>(context);
  const DirectConv &d = *t.self;
  const ConvShape &s = d.s;
  size_t b = row / s.outH;
  long oy = long(row % s.outH);
  long iy0 = oy * s.strideH - s.padTop;
  bool rowInside = iy0 >= 0 && iy0 + long(s.kernelH - 1) * s.dilationH < s.inH;
  float *out = t.output + row * size_t(s.outW) * s.outC;
  const size_t step = size_t(s.strideW) * s.inC;
  for (const Group &g : d.groups) {
    const __mmask16 last = tailMask(s.outC - g.channel - 16 * (g.vectors - 1));
    int ox = 0;
    if (rowInside) {
      for (; ox < d.xLo; ++ox)
        d.border(t.input, b, iy0, long(ox) * s.strideW - s.padLeft, g,
                 out + size_t(ox) * s.outC);
      const float *line = t.input + (b * s.inH + iy0) * size_t(s.inW) * s.inC;
      while (ox <= d.xHi) {
        int r = std::min(g.pixels, d.xHi + 1 - ox);
        directTable[g.vectors - 1][r - 1](
            line + (long(ox) * s.strideW - s.padLeft) * s.inC, step,
            d.tapOffset.data(), d.taps, d.weights.get() + g.offset,
            d.bias.get() + g.channel, out + size_t(ox) * s.outC + g.channel,
            s.outC, last, s.outMin, s.outMax);
        ox += r;
      }
    }
    for (; ox < s.outW; ++ox)
      d.border(t.input, b, iy0, long(ox) * s.strideW - s.padLeft, g,
               out + size_t(ox) * s.outC);
  }
}

void DirectConv::run(const float *input, float *output,
                     pthreadpool_t pool) const {
  Task task{this, input, output};
  pthreadpool_parallelize_1d(pool, &DirectConv::runRow, &task,
                             size_t(s.batch) * s.outH, kPoolFlags);
}

} // namespace

bool mobileone::runtime::kernels::available() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes;
}

/// A stem: few taps (3x3x3 = 27), computed directly.
static bool isDirect(const ConvShape &s) {
  return s.kernelH * s.kernelW * s.inC <= 64 &&
         !(s.kernelH == 1 && s.kernelW == 1);
}

/// 1x1, stride 1, no padding: a GEMM over the input's rows.
static bool isPointwise(const ConvShape &s) {
  return s.kernelH == 1 && s.kernelW == 1 && s.strideH == 1 && s.strideW == 1 &&
         s.padTop == 0 && s.padLeft == 0 && s.outH == s.inH && s.outW == s.inW;
}

bool mobileone::runtime::kernels::convBeatsXnnpack(const ConvShape &s) {
  if (isDirect(s))
    return true;
  if (!isPointwise(s))
    return false;
  size_t weightBytes = size_t(s.outC) * s.inC * 4;
  size_t pixels = size_t(s.batch) * s.outH * s.outW;
  return weightBytes > kL2ResidentWeightBytes &&
         (pixels < 128 || weightBytes >= (2u << 20) ||
          (pixels <= 256 && weightBytes >= (1u << 20)));
}

std::unique_ptr<Kernel> mobileone::runtime::kernels::createConv(
    const ConvShape &shape, const float *weights, const float *bias) {
  if (!available())
    return nullptr;
  if (isDirect(shape))
    return std::make_unique<DirectConv>(shape, weights, bias);
  if (isPointwise(shape))
    return std::make_unique<ConvGemm>(shape, weights, bias);
  return nullptr;
}

std::unique_ptr<Kernel> mobileone::runtime::kernels::createDepthwiseConv(
    const ConvShape &shape, const float *weights, const float *bias) {
  if (!available() || shape.kernelH != 3 || shape.kernelW != 3 ||
      shape.strideH != 1 || shape.strideW != 1 || shape.dilationH != 1 ||
      shape.dilationW != 1 || shape.outC != shape.inC)
    return nullptr;
  return std::make_unique<Depthwise3x3>(shape, weights, bias);
}
