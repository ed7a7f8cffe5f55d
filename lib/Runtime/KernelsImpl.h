//===- KernelsImpl.h - convolution kernels, generic over the ISA -*- C++ -*-===//
//
// The dense (1x1 GEMM and direct stem) and 3x3 depthwise kernels, written
// once over a vector-ISA traits class `T` and instantiated per ISA by
// KernelsAvx512.cpp and KernelsAvx2.cpp. Only those two files include this
// one, inside `#pragma GCC target(...)`, after the standard headers and
// <immintrin.h>: every function here is compiled for that ISA, while the
// standard library's inline functions they call keep the baseline target,
// so nothing the linker may share between translation units needs more
// than the baseline CPU.
//
// The traits class gives the vector type V and its mask type Mask and:
//   kLanes                 floats per vector (16 or 8)
//   kAccumulators          registers a register tile may use as sums
//   kTileRows, kPanelVectors  the GEMM's register tile: rows x vectors
//   kDepthwiseRows         output rows of the depthwise step (1 to 3;
//                          stride 2 takes at most 2)
//   kDirectGroupVectors    vectors per channel group of the direct kernel
//   kKxKPixels             outputs of a row the KxK kernel's step computes
//   load/loadu/loadMasked/storeu/storeMasked/set1/zero/fmadd/min/max,
//   tail(lanes) (the mask of the first `lanes` lanes);
//   for GELU also add/sub/mul/div/fnmadd, abs, copySign, round (to nearest)
//   and pow2i (2^n of an integral n).
// min/max follow the hardware's operand order (the second operand is
// returned when either is NaN): clamps are written max(lo, x) then
// min(hi, .), so a NaN result stays NaN.
//
// Convolution as GEMM (1x1, and KxK tap by tap): weights are packed once
// into panels of kPanelVectors vectors of output channels ([K][panel
// width], bias separate), and a kTileRows x kPanelVectors register tile runs
// the K loop with one broadcast per row and the panel's weight vectors per
// step. Every weight panel streams once past a block of rows (read where
// they are), instead of once per 7 rows as in XNNPACK 2022-02's
// single-thread order.
//
// Depthwise 3x3 (stride 1) keeps the nine weight vectors of a channel group
// in registers and computes four outputs of kDepthwiseRows rows at a time,
// so each input row is loaded once per step.
//
// A stem (few input channels) is a direct convolution: tiles of pixels x
// channel groups accumulate over its taps without im2col.
//
//===----------------------------------------------------------------------===//

namespace {

using mobileone::runtime::kernels::ConvShape;
using mobileone::runtime::kernels::Kernel;
using mobileone::runtime::kernels::RowProducer;

/// Identifies this file's ISA build (a fused pair must be of one build).
const void *isaTag() {
  static const char tag = 0;
  return &tag;
}

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

/// The output columns [lo, hi] whose whole window (kernelW taps,
/// dilationW apart, from ox * strideW - padLeft) lies inside the input
/// row; lo at most outW, hi -1 where there are none. A kernel's steps
/// between them need no bounds checks.
inline void interiorColumns(const ConvShape &s, int &lo, int &hi) {
  lo = std::min(s.outW, (s.padLeft + s.strideW - 1) / s.strideW);
  long last = long(s.inW) - 1 - long(s.kernelW - 1) * s.dilationW + s.padLeft;
  hi = last < 0 ? -1 : int(std::min<long>(s.outW - 1, last / s.strideW));
}

/// As XNNPACK runs: denormals flushed to zero (a null pool runs the work on
/// the calling thread, under the same flag).
constexpr uint32_t kPoolFlags = PTHREADPOOL_FLAG_DISABLE_DENORMALS;

/// acc[r][v] = the bias vectors.
template <class T, int R, int NV>
inline void loadBias(typename T::V (&acc)[R][NV], const float *bias) {
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      acc[r][v] = T::load(bias + T::kLanes * v);
}

/// The fused activation of one vector: LeakyReLU with `slope` in [0, 1]
/// (max(x, slope x); 1: none), then the clamp to [lo, hi]. A NaN stays.
template <class T>
inline typename T::V activate(typename T::V x, typename T::V vlo,
                              typename T::V vhi, typename T::V vslope,
                              bool leaky) {
  if (leaky)
    x = T::max(T::mul(x, vslope), x);
  return T::min(vhi, T::max(vlo, x));
}

/// Row r of the tile to out + r * stride, through the fused activation
/// (LeakyReLU `slope`, clamp to [lo, hi]); the last vector of each row
/// under `lastMask`.
template <class T, int R, int NV>
inline void storeClamped(const typename T::V (&acc)[R][NV], float *out,
                         size_t stride, typename T::Mask lastMask, float lo,
                         float hi, float slope) {
  const typename T::V vlo = T::set1(lo), vhi = T::set1(hi),
                      vslope = T::set1(slope);
  const bool leaky = slope != 1.0f;
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      typename T::V y = activate<T>(acc[r][v], vlo, vhi, vslope, leaky);
      if (v == NV - 1)
        T::storeMasked(out + r * stride + T::kLanes * v, lastMask, y);
      else
        T::storeu(out + r * stride + T::kLanes * v, y);
    }
}

/// acc[r][v] += x(r) * w[v]: the NV weight vectors at `w` loaded once, one
/// broadcast of x(r) per row.
template <class T, int R, int NV, class X>
inline void rankOneUpdate(typename T::V (&acc)[R][NV], const float *w, X x) {
  typename T::V wv[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v)
    wv[v] = T::load(w + T::kLanes * v);
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    typename T::V xr = T::set1(x(r));
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      acc[r][v] = T::fmadd(xr, wv[v], acc[r][v]);
  }
}

//===----------------------------------------------------------------------===//
// Convolution as GEMM
//===----------------------------------------------------------------------===//

/// Numbers every GEMM run in the process, so a thread's block of a fused
/// producer's rows (keyed by operator, run and block) is never mistaken for
/// another run's, even of an operator allocated where a destroyed one was.
std::atomic<uint64_t> runCounter{0};

/// The taps a GEMM tile sums over: for each, where each row of the tile
/// reads its input (a tap in the padding reads zeros) and the tap's ordinal:
/// its floats start at K offset index * (floats per tap), K ordered (ky, kx,
/// channel). A 1x1 layer has one tap; a KxK layer leaves out the taps that
/// fall in the padding for every row of the tile.
struct TileTaps {
  static constexpr int kMaxTaps = 64, kMaxRows = 16;
  const float *rows[kMaxTaps][kMaxRows];
  unsigned index[kMaxTaps];
  int n = 0;
};

/// C[MR x lanes*NV] = clamp(bias + A * B): for each tap, `c` steps of one
/// broadcast per row (read where it is: no packing pass) and NV weight
/// vectors of B, packed [K][lanes*NV]. Strided: one tap of all K = c floats
/// per row, rows c floats apart from taps.rows[0][0] (a 1x1 layer; constant
/// offsets from one register measured 1-3% faster than a register per row).
/// Each step also prefetches one line of [pf, pfEnd), `pfStride` bytes
/// apart: the weights the next tiles need, fetched evenly instead of in a
/// burst when they arrive.
template <class T, int MR, int NV, bool Strided>
void gemmTile(const TileTaps &taps, size_t c, const float *b,
              const float *bias, float *out, size_t ldc,
              typename T::Mask lastMask, float lo, float hi, float slope,
              const char *pf, const char *pfEnd, size_t pfStride) {
  constexpr size_t W = T::kLanes * NV;
  typename T::V acc[MR][NV];
  loadBias<T>(acc, bias);
  for (int t = 0; t < (Strided ? 1 : taps.n); ++t) {
    const float *rows[MR];
    if constexpr (!Strided)
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r)
        rows[r] = taps.rows[t][r];
    const float *bt = b + size_t(taps.index[t]) * c * W;
#pragma GCC unroll 8
    for (size_t i = 0; i < c; ++i, bt += W) {
      if (pf < pfEnd) {
        _mm_prefetch(pf, _MM_HINT_T1);
        pf += pfStride;
      }
      if constexpr (Strided)
        rankOneUpdate<T>(acc, bt, [&taps, c, i](int r) {
          return taps.rows[0][0][size_t(r) * c + i];
        });
      else
        rankOneUpdate<T>(acc, bt, [&rows, i](int r) { return rows[r][i]; });
    }
  }
  storeClamped<T>(acc, out, ldc, lastMask, lo, hi, slope);
}

template <class T>
using TileFn = void (*)(const TileTaps &, size_t, const float *,
                        const float *, float *, size_t, typename T::Mask,
                        float, float, float, const char *, const char *,
                        size_t);

template <class T, bool Strided, int NV, size_t... MR>
constexpr auto makeTileTable(std::index_sequence<MR...>) {
  return std::array<TileFn<T>, sizeof...(MR)>{
      &gemmTile<T, int(MR) + 1, NV, Strided>...};
}
template <class T, bool Strided, size_t... NV>
constexpr auto makeTileTables(std::index_sequence<NV...>) {
  return std::array<std::array<TileFn<T>, T::kTileRows>, sizeof...(NV)>{
      makeTileTable<T, Strided, int(NV) + 1>(
          std::make_index_sequence<T::kTileRows>())...};
}

/// tileTable<T, Strided>()[NV - 1][MR - 1], NV up to T::kPanelVectors.
template <class T, bool Strided> const auto &tileTable() {
  static_assert(T::kTileRows * T::kPanelVectors <= T::kAccumulators &&
                T::kTileRows <= TileTaps::kMaxRows);
  static const auto table = makeTileTables<T, Strided>(
      std::make_index_sequence<T::kPanelVectors>());
  return table;
}

/// A convolution as a GEMM over output pixels: 1x1 stride 1 without
/// padding reads output pixel m's input row m; any other kernel (one group,
/// at most 64 taps) sums over its taps, each a GEMM whose rows are the
/// input pixels that tap reads (no im2col; a tap in the padding reads a row
/// of zeros).
template <class T> class ConvGemm : public Kernel {
public:
  ConvGemm(const ConvShape &s, const float *weights, const float *bias);
  void run(const float *input, float *output,
           pthreadpool_t pool) const override;
  bool splitsByChannel() const override { return !rowSplit; }
  bool fuseProducer(const RowProducer &producer, int threads) override;

private:
  /// Weights up to this size stay in L2 while one thread streams them past
  /// its own rows: threads split the rows, each reading only its own.
  static constexpr size_t kRowSplitWeightBytes = 512u << 10;
  static constexpr int kTileRows = T::kTileRows;
  struct Task {
    const ConvGemm *self;
    const float *input;
    float *output;
    uint64_t run;
    size_t blockRows;
  };
  static void runTask(void *task, size_t block, size_t panel);
  /// Output pixels [m0, m0 + rows), panel p; `a`: for a 1x1 layer, the
  /// block's input rows (lda = k), else the layer's input.
  void computePanel(const float *a, size_t m0, size_t rows, size_t p,
                    float *output) const;
  /// The taps output pixels [m0, m0 + n) read; returns the floats each tap
  /// reads per row (a whole kernel row where every tap is inside).
  size_t tapsOf(const float *input, size_t m0, size_t n,
                TileTaps &taps) const;

  ConvShape s;
  size_t k, m;
  bool pointwise; ///< 1x1, stride 1, no padding: A is the input itself
  size_t budgetBlocks; ///< blocks of at most 256 KiB of input
  bool rowSplit;       ///< threads take blocks of rows, not panels
  /// Computes the input block by block (see fuseProducer), or null.
  const RowProducer *producer = nullptr;
  std::vector<size_t> panelOffset; ///< per panel, then the end
  std::vector<size_t> panelCol;    ///< each panel's first output channel
  AlignedFloats packed, bias;
  AlignedFloats zeros; ///< a row of inC zeros: taps in the padding
  /// Per tap (ky * kernelW + kx), its input offset from the window origin.
  std::vector<std::ptrdiff_t> tapOffset;
};

template <class T>
ConvGemm<T>::ConvGemm(const ConvShape &s, const float *weights,
                      const float *biasIn)
    : s(s) {
  constexpr size_t L = T::kLanes;
  k = size_t(s.kernelH) * s.kernelW * s.inC;
  m = size_t(s.batch) * s.outH * s.outW;
  pointwise = s.kernelH == 1 && s.kernelW == 1 && s.strideH == 1 &&
              s.strideW == 1 && s.padTop == 0 && s.padLeft == 0 &&
              s.outH == s.inH && s.outW == s.inW;
  // Panels of kPanelVectors vectors, the vectors missing for whole panels
  // spread over the last ones (64 channels: 2 + 2, not 3 + 1; a one-vector
  // panel's tile is bound by its broadcasts).
  size_t n = s.outC, vectors = (n + L - 1) / L, total = 0;
  size_t panels = (vectors + T::kPanelVectors - 1) / T::kPanelVectors;
  size_t short_ = panels * T::kPanelVectors - vectors; // vectors missing
  for (size_t p = 0, col = 0; p < panels; ++p) {
    size_t width = L * (T::kPanelVectors - short_ / panels -
                        (p >= panels - short_ % panels));
    panelCol.push_back(col);
    panelOffset.push_back(total);
    total += k * width;
    col += width;
  }
  panelOffset.push_back(total);
  packed = allocate(total);
  bias = allocate(vectors * L);
  for (size_t p = 0; p < panels; ++p) {
    size_t width = (panelOffset[p + 1] - panelOffset[p]) / k;
    float *dst = packed.get() + panelOffset[p];
    for (size_t j = 0; j < width && panelCol[p] + j < n; ++j) {
      const float *src = weights + (panelCol[p] + j) * k;
      for (size_t i = 0; i < k; ++i)
        dst[i * width + j] = src[i];
    }
  }
  if (biasIn)
    std::memcpy(bias.get(), biasIn, n * sizeof(float));

  // Weights stream from memory once per block of at most 256 KiB of rows
  // (a quarter of Zen 5's L2, which the streaming panels share: S4's
  // 14x14x896 layers ran ~4% faster than with blocks of 1 MiB, in runs
  // alternating which goes first; S1's and S2's the same; on Zen 4, 512 KiB
  // had measured 1-3% slower than 1 MiB). A KxK layer's rows are its input
  // map read in place, not rows x K floats: its blocks are counted by the
  // input (ResNet's 7x7x512 layers, 100 KiB of input against 900 KiB of
  // rows x K, had streamed their 9 MiB of weights four times).
  size_t bytes = (pointwise ? m * k
                            : size_t(s.batch) * s.inH * s.inW * s.inC) *
                 sizeof(float),
         budget = 256u << 10;
  budgetBlocks = std::max<size_t>(1, (bytes + budget - 1) / budget);
  rowSplit = k * n * sizeof(float) <= kRowSplitWeightBytes;
  if (!pointwise) {
    zeros = allocate(size_t(s.inC));
    for (int ky = 0; ky < s.kernelH; ++ky)
      for (int kx = 0; kx < s.kernelW; ++kx)
        tapOffset.push_back((std::ptrdiff_t(ky) * s.dilationH * s.inW +
                             std::ptrdiff_t(kx) * s.dilationW) *
                            s.inC);
  }
}

/// The producer's rows are computed per block into a thread's buffer and
/// read from there, so its output never goes to memory. Each block is
/// computed by the threads that take its tasks: fused only where one thread
/// normally takes each block (one thread, or a split by rows; a thread that
/// steals a block's later panels from another computes its rows again:
/// the same values, more time).
template <class T>
bool ConvGemm<T>::fuseProducer(const RowProducer &p, int threads) {
  const ConvShape &d = p.shape();
  if (producer || !pointwise || p.isaTag() != isaTag() ||
      (threads > 1 && !rowSplit) ||
      d.batch != s.batch || d.outH != s.inH || d.outW != s.inW ||
      d.outC != s.inC || s.inW <= 0)
    return false;
  producer = &p;
  return true;
}

template <class T>
size_t ConvGemm<T>::tapsOf(const float *input, size_t m0, size_t n,
                           TileTaps &taps) const {
  // Each pixel's window origin (top-left tap, maybe in the padding), found
  // without a division per pixel.
  long iy0[TileTaps::kMaxRows], ix0[TileTaps::kMaxRows];
  size_t image[TileTaps::kMaxRows];
  const size_t perImage = size_t(s.outH) * s.outW;
  size_t b = m0 / perImage;
  long oy = long(m0 % perImage / s.outW), ox = long(m0 % s.outW);
  bool interior = true;
  const long spanH = long(s.kernelH - 1) * s.dilationH;
  const long spanW = long(s.kernelW - 1) * s.dilationW;
  for (size_t j = 0; j < n; ++j) {
    image[j] = b;
    iy0[j] = oy * s.strideH - s.padTop;
    ix0[j] = ox * s.strideW - s.padLeft;
    interior = interior && iy0[j] >= 0 && iy0[j] + spanH < s.inH &&
               ix0[j] >= 0 && ix0[j] + spanW < s.inW;
    if (++ox == s.outW) {
      ox = 0;
      if (++oy == s.outH)
        oy = 0, ++b;
    }
  }
  const int all = s.kernelH * s.kernelW;
  if (interior) {
    const float *origin[TileTaps::kMaxRows];
    for (size_t j = 0; j < n; ++j)
      origin[j] =
          input + ((image[j] * s.inH + iy0[j]) * s.inW + ix0[j]) * s.inC;
    // Without dilation a kernel row's taps are adjacent pixels, whose
    // channels follow each other in NHWC as they do in K: one tap of
    // kernelW * inC floats per kernel row (a 7x7 stem of 3 channels: 7
    // taps of 21 steps, not 49 of 3).
    const int step = s.dilationW == 1 ? s.kernelW : 1;
    taps.n = 0;
    for (int t = 0; t < all; t += step) {
      for (size_t j = 0; j < n; ++j)
        taps.rows[taps.n][j] = origin[j] + tapOffset[t];
      taps.index[taps.n++] = unsigned(t / step);
    }
    return size_t(step) * s.inC;
  }
  taps.n = 0;
  for (int t = 0; t < all; ++t) {
    const long dy = long(t / s.kernelW) * s.dilationH;
    const long dx = long(t % s.kernelW) * s.dilationW;
    bool any = false;
    for (size_t j = 0; j < n; ++j) {
      long iy = iy0[j] + dy, ix = ix0[j] + dx;
      bool inside = iy >= 0 && iy < s.inH && ix >= 0 && ix < s.inW;
      taps.rows[taps.n][j] =
          inside ? input + ((image[j] * s.inH + iy) * s.inW + ix) * s.inC
                 : zeros.get();
      any = any || inside;
    }
    if (any) // a tap in the padding for every row is left out
      taps.index[taps.n++] = unsigned(t);
  }
  return size_t(s.inC);
}

/// One panel over a block of output pixels, prefetching the next panel
/// meanwhile.
template <class T>
void ConvGemm<T>::computePanel(const float *a, size_t m0, size_t rows,
                               size_t p, float *output) const {
  constexpr size_t L = T::kLanes;
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
  const size_t n = s.outC, col = panelCol[p];
  const size_t cols = std::min(
      (panelOffset[p + 1] - panelOffset[p]) / k, n - col);
  const int nv = int((cols + L - 1) / L);
  const typename T::Mask lastMask = T::tail(int(cols - L * (nv - 1)));
  const auto &table =
      pointwise ? tileTable<T, true>() : tileTable<T, false>();
  TileTaps taps;
  if (pointwise) {
    taps.n = 1;
    taps.index[0] = 0;
  }
  for (size_t t = 0; t < tiles; ++t) {
    const char *pf = next ? next + t * share : nullptr;
    size_t r = t * kTileRows, mr = std::min<size_t>(kTileRows, rows - r);
    size_t perTap = k;
    if (pointwise)
      taps.rows[0][0] = a + r * k;
    else
      perTap = tapsOf(a, m0 + r, mr, taps);
    table[nv - 1][mr - 1](taps, perTap, packed.get() + panelOffset[p],
                          bias.get() + col,
                          output + (m0 + r) * n + col, n, lastMask, s.outMin,
                          s.outMax, s.slope, pf, pf ? pf + share : nullptr,
                          stride);
  }
}

template <class T>
void ConvGemm<T>::runTask(void *context, size_t block, size_t panel) {
  const Task &t = *static_cast<const Task *>(context);
  const ConvGemm &g = *t.self;
  size_t m0 = block * t.blockRows, rows = std::min(t.blockRows, g.m - m0);
  if (!g.producer) {
    g.computePanel(g.pointwise ? t.input + m0 * g.k : t.input, m0, rows,
                   panel, t.output);
    return;
  }
  // A thread runs its panels of a block one after the other: compute the
  // producer's rows once per (operator, run, block).
  thread_local std::vector<float> blockA;
  thread_local struct {
    const ConvGemm *op = nullptr;
    uint64_t run = 0;
    size_t block = 0;
  } blockFor;
  if (blockFor.op != &g || blockFor.run != t.run || blockFor.block != block) {
    blockA.resize(rows * g.k); // whole image rows: blocks are whole rows
    g.producer->computeRows(t.input, blockA.data(), m0 / size_t(g.s.inW),
                            rows / size_t(g.s.inW));
    blockFor = {&g, t.run, block};
  }
  g.computePanel(blockA.data(), m0, rows, panel, t.output);
}

template <class T>
void ConvGemm<T>::run(const float *input, float *output,
                      pthreadpool_t pool) const {
  // One task per (block, panel); a thread's tasks are consecutive panels of
  // a block. Large weights: each panel is read by one thread. Small ones:
  // as many blocks as threads (or a multiple), so each thread reads only its
  // rows and no thread is left with the narrow last panel alone (S0's
  // 56x56x48 layers ran 1.6x ONNX Runtime's time split by panel).
  size_t threads = pool ? pthreadpool_get_threads_count(pool) : 1;
  size_t blocks = budgetBlocks;
  if (rowSplit && threads > 1)
    blocks = (blocks + threads - 1) / threads * threads;
  size_t blockRows = (m + blocks - 1) / blocks;
  // Whole tiles; fused, whole rows of the image (the producer's unit).
  size_t unit = producer ? size_t(s.inW) : size_t(kTileRows);
  blockRows = (blockRows + unit - 1) / unit * unit;
  blocks = (m + blockRows - 1) / blockRows;
  Task task{this, input, output, ++runCounter, blockRows};
  pthreadpool_parallelize_2d(pool, &ConvGemm::runTask, &task, blocks,
                             panelOffset.size() - 1, kPoolFlags);
}

//===----------------------------------------------------------------------===//
// Depthwise 3x3
//===----------------------------------------------------------------------===//

/// Stride S (1 or 2) both ways, no dilation, multiplier 1, any padding.
template <class T, int S>
class Depthwise3x3 : public Kernel, public RowProducer {
public:
  Depthwise3x3(const ConvShape &s, const float *weights, const float *bias);
  void run(const float *input, float *output,
           pthreadpool_t pool) const override;
  void preferChannelSplit() override { channelSplit = true; }
  bool splitsByChannel() const override { return channelSplit; }
  const RowProducer *asRowProducer() const override { return this; }
  void computeRows(const float *input, float *out, size_t row,
                   size_t rows) const override;
  const ConvShape &shape() const override { return s; }
  const void *isaTag() const override { return ::isaTag(); }

private:
  static constexpr int L = T::kLanes;
  /// Output rows per step (stride 2 reads 2 NR + 1 input rows: at most 2).
  static constexpr int kRows =
      S == 1 ? T::kDepthwiseRows : std::min(2, T::kDepthwiseRows);
  using V = typename T::V;
  struct Task {
    const Depthwise3x3 *self;
    const float *input;
    float *output;
    size_t chunksPerGroup;
  };
  static void runUnit(void *task, size_t unit);
  static void runGroupUnit(void *task, size_t group, size_t unit);
  /// Work unit u: output rows kRows * u .. of an image (fewer at the end of
  /// its height), channel groups c0 .. c1.
  void unit(const float *input, float *output, size_t u, int c0, int c1) const;
  /// Rows oy .. oy + n - 1 of image b (n up to kRows), written from `out0`.
  void someRows(const float *input, float *out0, size_t b, long oy, int n,
                int c0, int c1) const;
  /// Rows oy .. oy + NR - 1 of image b, written from `out0`.
  template <int NR>
  void outputRows(const float *input, float *out0, size_t b, long oy, int c0,
                  int c1) const;
  template <int NR, bool Checked, bool Full>
  void step(const float *const rows[], float *const out[], long ox,
            int chunk) const;
  void single(const float *const rows[3], float *out, int ox, int chunk) const;
  /// Input columns a step of four outputs reads.
  static constexpr int kStepColumns = 3 * S + 3;

  ConvShape s;
  int chunks;
  int fullChunks; ///< channel groups without a tail
  int xLo, xHi;   ///< outputs whose three taps are inside the row
  bool channelSplit = false;
  AlignedFloats weights, bias, zeros;
};

template <class T, int S>
Depthwise3x3<T, S>::Depthwise3x3(const ConvShape &s, const float *w,
                              const float *biasIn)
    : s(s), chunks((s.inC + L - 1) / L), fullChunks(s.inC / L) {
  weights = allocate(size_t(chunks) * 9 * L);
  bias = allocate(size_t(chunks) * L);
  zeros = allocate(size_t(s.inW) * s.inC + L);
  for (int c = 0; c < s.inC; ++c) {
    for (int t = 0; t < 9; ++t)
      weights[(size_t(c / L) * 9 + t) * L + c % L] = w[size_t(t) * s.inC + c];
    if (biasIn)
      bias[c] = biasIn[c];
  }
  interiorColumns(s, xLo, xHi);
}

/// Output `ox` of one channel group, skipping taps outside the row.
template <class T, int S>
void Depthwise3x3<T, S>::single(const float *const rows[3], float *out, int ox,
                             int chunk) const {
  const size_t c = size_t(s.inC);
  const int ch = chunk * L;
  const typename T::Mask mask = T::tail(s.inC - ch);
  const float *wp = weights.get() + size_t(chunk) * 9 * L;
  V acc = T::load(bias.get() + ch);
  for (int kx = 0; kx < 3; ++kx) {
    long ix = long(ox) * S - s.padLeft + kx;
    if (ix < 0 || ix >= s.inW)
      continue;
    for (int ky = 0; ky < 3; ++ky)
      acc = T::fmadd(T::loadMasked(rows[ky] + ix * c + ch, mask),
                     T::load(wp + L * (ky * 3 + kx)), acc);
  }
  acc = T::max(T::set1(s.outMin), acc); // a NaN stays
  acc = T::min(T::set1(s.outMax), acc);
  T::storeMasked(out + ox * c + ch, mask, acc);
}

/// Four outputs from `ox` of NR rows, one channel group: the (NR - 1) S + 3
/// input rows they read are each loaded once (stride 1, three rows: 30
/// loads for 108 FMAs and 12 independent sums, against 24 for 72 and 8 for
/// two rows). Checked: columns
/// outside the row read as zeros. Full: the group has no tail (plain loads
/// and stores).
template <class T, int S>
template <int NR, bool Checked, bool Full>
inline void Depthwise3x3<T, S>::step(const float *const rows[],
                                  float *const out[], long ox,
                                  int chunk) const {
  const size_t c = size_t(s.inC);
  const long ix0 = ox * S - s.padLeft;
  const int ch = chunk * L;
  const typename T::Mask mask = T::tail(Full ? L : s.inC - ch);
  auto load = [&](const float *p) {
    if constexpr (Full)
      return T::loadu(p);
    else
      return T::loadMasked(p, mask);
  };
  const float *wp = weights.get() + size_t(chunk) * 9 * L;
  V w[9];
#pragma GCC unroll 9
  for (int t = 0; t < 9; ++t)
    w[t] = T::load(wp + L * t);
  const V bv = T::load(bias.get() + ch);
  V acc[NR][4];
#pragma GCC unroll 3
  for (int o = 0; o < NR; ++o)
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i)
      acc[o][i] = bv;
#pragma GCC unroll 7
  for (int r = 0; r < (NR - 1) * S + 3; ++r) {
    V in[kStepColumns];
#pragma GCC unroll 9
    for (int j = 0; j < kStepColumns; ++j) {
      long ix = ix0 + j;
      in[j] = !Checked || (ix >= 0 && ix < s.inW) ? load(rows[r] + ix * c + ch)
                                                  : T::zero();
    }
#pragma GCC unroll 3
    for (int o = 0; o < NR; ++o) {
      const int ky = r - o * S;
      if (ky < 0 || ky > 2)
        continue;
#pragma GCC unroll 3
      for (int kx = 0; kx < 3; ++kx)
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i)
          acc[o][i] = T::fmadd(in[i * S + kx], w[ky * 3 + kx], acc[o][i]);
    }
  }
  const V lo = T::set1(s.outMin), hi = T::set1(s.outMax);
#pragma GCC unroll 3
  for (int o = 0; o < NR; ++o)
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      V y = T::min(hi, T::max(lo, acc[o][i]));
      if constexpr (Full)
        T::storeu(out[o] + (ox + i) * c + ch, y);
      else
        T::storeMasked(out[o] + (ox + i) * c + ch, mask, y);
    }
}

/// NR (at most kRows) output rows from oy. All channel groups of four
/// pixels go before the next four, so the input is read in address order.
template <class T, int S>
template <int NR>
void Depthwise3x3<T, S>::outputRows(const float *input, float *out0, size_t b,
                                 long oy, int c0, int c1) const {
  const size_t c = size_t(s.inC);
  const float *rows[(NR - 1) * S + 3];
  for (int r = 0; r < (NR - 1) * S + 3; ++r) {
    long iy = oy * S - s.padTop + r;
    rows[r] = iy < 0 || iy >= s.inH
                  ? zeros.get()
                  : input + (b * s.inH + iy) * size_t(s.inW) * s.inC;
  }
  float *out[NR];
  for (int o = 0; o < NR; ++o)
    out[o] = out0 + o * size_t(s.outW) * c;
  if (s.outW < 4) {
    for (int ox = 0; ox < s.outW; ++ox)
      for (int chunk = c0; chunk < c1; ++chunk)
        for (int o = 0; o < NR; ++o)
          single(rows + o * S, out[o], ox, chunk);
    return;
  }
  const int full = std::min(c1, fullChunks);
  auto tile = [&](long ox, auto checked) {
    constexpr bool C = decltype(checked)::value;
    int chunk = c0;
    for (; chunk < full; ++chunk)
      step<NR, C, true>(rows, out, ox, chunk);
    for (; chunk < c1; ++chunk)
      step<NR, C, false>(rows, out, ox, chunk);
  };
  using Checked = std::true_type;
  using Unchecked = std::false_type;
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

template <class T, int S>
void Depthwise3x3<T, S>::someRows(const float *input, float *out0, size_t b,
                                  long oy, int n, int c0, int c1) const {
  if (kRows >= 3 && n >= 3)
    outputRows<(kRows >= 3 ? 3 : 1)>(input, out0, b, oy, c0, c1);
  else if (kRows >= 2 && n >= 2)
    outputRows<(kRows >= 2 ? 2 : 1)>(input, out0, b, oy, c0, c1);
  else
    outputRows<1>(input, out0, b, oy, c0, c1);
}

template <class T, int S>
void Depthwise3x3<T, S>::unit(const float *input, float *output, size_t u, int c0,
                           int c1) const {
  size_t perImage = (s.outH + kRows - 1) / kRows, b = u / perImage;
  long oy = long(u % perImage) * kRows;
  float *out0 = output + (b * s.outH + oy) * size_t(s.outW) * s.outC;
  someRows(input, out0, b, oy, int(std::min<long>(kRows, s.outH - oy)), c0,
           c1);
}

template <class T, int S>
void Depthwise3x3<T, S>::computeRows(const float *input, float *out, size_t row,
                                  size_t rows) const {
  const size_t rowFloats = size_t(s.outW) * s.outC;
  for (size_t r = row; r < row + rows;) {
    size_t b = r / s.outH;
    long oy = long(r % s.outH);
    int n = int(std::min<size_t>({size_t(kRows), s.outH - size_t(oy),
                                  row + rows - r}));
    someRows(input, out + (r - row) * rowFloats, b, oy, n, 0, chunks);
    r += n;
  }
}

template <class T, int S>
void Depthwise3x3<T, S>::runUnit(void *context, size_t u) {
  const Task &t = *static_cast<const Task *>(context);
  t.self->unit(t.input, t.output, u, 0, t.self->chunks);
}

template <class T, int S>
void Depthwise3x3<T, S>::runGroupUnit(void *context, size_t group, size_t u) {
  const Task &t = *static_cast<const Task *>(context);
  int c0 = int(group * t.chunksPerGroup);
  int c1 = std::min(t.self->chunks, int((group + 1) * t.chunksPerGroup));
  t.self->unit(t.input, t.output, u, c0, c1);
}

template <class T, int S>
void Depthwise3x3<T, S>::run(const float *input, float *output,
                          pthreadpool_t pool) const {
  Task task{this, input, output, 0};
  size_t units = size_t(s.batch) * ((s.outH + kRows - 1) / kRows);
  size_t threads = pool ? pthreadpool_get_threads_count(pool) : 1;
  if (channelSplit && threads > 1) {
    // Thread i takes the i-th range of channels of every row: the range the
    // producer's thread i wrote, still in that core's cache.
    task.chunksPerGroup = (size_t(chunks) + threads - 1) / threads;
    size_t groups =
        (size_t(chunks) + task.chunksPerGroup - 1) / task.chunksPerGroup;
    pthreadpool_parallelize_2d(pool, &Depthwise3x3::runGroupUnit, &task,
                               groups, units, kPoolFlags);
    return;
  }
  pthreadpool_parallelize_1d(pool, &Depthwise3x3::runUnit, &task, units,
                             kPoolFlags);
}

//===----------------------------------------------------------------------===//
// Depthwise KxK
//===----------------------------------------------------------------------===//

/// Depthwise convolution of any kernel size and stride, no dilation, any
/// depth multiplier m (output channel o reads input channel o / m: the
/// input is first expanded to the output's channels, a pass over memory
/// the size of the output), NHWC, one vector of channels at a time.
/// Weights are repacked [chunk][KH * KW][lanes] (zeros beyond C). Four
/// output pixels share each weight load where all their taps are inside the
/// input; pixels at the borders skip the taps outside. Rows are split over
/// the pool.
template <class T> class DepthwiseKxK : public Kernel {
public:
  DepthwiseKxK(const ConvShape &s, const float *w, const float *b);
  void run(const float *input, float *output,
           pthreadpool_t pool) const override;

private:
  static constexpr int L = T::kLanes;
  using V = typename T::V;
  /// What one channel group of a row needs.
  struct Row {
    const float *image;
    float *out;
    const float *w;
    V bias, lo, hi;
    typename T::Mask mask;
    int ch, lanes, iy0, ky0, ky1;
  };
  struct Task {
    const DepthwiseKxK *self;
    const float *input;
    float *output;
  };
  static void runRow(void *task, size_t row);
  static void runExpand(void *task, size_t row);
  V load(const Row &r, int iy, int ix) const;
  void store(const Row &r, int ox, V v) const;
  void single(const Row &r, int ox) const;
  void four(const Row &r, int ox) const;
  template <int K, int S, bool Checked>
  void rowStep(const Row &r, int ox) const;
  template <int K, int S> void rowSteps(const Row &r) const;
  bool blockedRow(const Row &r) const;
  void outputRow(const float *input, float *output, size_t row) const;
  static constexpr int P = T::kKxKPixels;

  ConvShape s;    ///< with inC = outC (the expanded input's channels)
  int inChannels; ///< of the input as given
  int multiplier;
  int chunks, taps, xLo, xHi;
  AlignedFloats weights, bias;
  AlignedFloats expanded; ///< the input with each channel m times (m > 1)
};

template <class T>
DepthwiseKxK<T>::DepthwiseKxK(const ConvShape &shape, const float *w,
                              const float *b)
    : s(shape), inChannels(shape.inC), multiplier(shape.outC / shape.inC) {
  s.inC = s.outC;
  chunks = (s.outC + L - 1) / L;
  taps = s.kernelH * s.kernelW;
  weights = allocate(size_t(chunks) * taps * L);
  bias = allocate(size_t(chunks) * L);
  for (int c = 0; c < s.outC; ++c) {
    for (int t = 0; t < taps; ++t)
      weights[(size_t(c / L) * taps + t) * L + c % L] =
          w[size_t(t) * s.outC + c];
    if (b)
      bias[c] = b[c];
  }
  if (multiplier > 1)
    expanded = allocate(size_t(s.batch) * s.inH * s.inW * s.inC);
  interiorColumns(s, xLo, xHi);
}

template <class T>
inline typename T::V DepthwiseKxK<T>::load(const Row &r, int iy,
                                           int ix) const {
  const float *p = r.image + (size_t(iy) * s.inW + ix) * size_t(s.inC) + r.ch;
  return r.lanes == L ? T::loadu(p) : T::loadMasked(p, r.mask);
}

template <class T>
inline void DepthwiseKxK<T>::store(const Row &r, int ox, V v) const {
  v = T::min(r.hi, T::max(r.lo, v)); // a NaN stays
  float *p = r.out + size_t(ox) * s.inC + r.ch;
  if (r.lanes == L)
    T::storeu(p, v);
  else
    T::storeMasked(p, r.mask, v);
}

/// One output with every tap checked.
template <class T>
void DepthwiseKxK<T>::single(const Row &r, int ox) const {
  V acc = r.bias;
  const int ix0 = ox * s.strideW - s.padLeft;
  const int kx0 = std::max(0, -ix0), kx1 = std::min(s.kernelW, s.inW - ix0);
  for (int ky = r.ky0; ky < r.ky1; ++ky)
    for (int kx = kx0; kx < kx1; ++kx)
      acc = T::fmadd(load(r, r.iy0 + ky, ix0 + kx),
                     T::load(r.w + (ky * s.kernelW + kx) * L), acc);
  store(r, ox, acc);
}

/// Four outputs from ox, every tap inside the row.
template <class T>
void DepthwiseKxK<T>::four(const Row &r, int ox) const {
  V acc[4] = {r.bias, r.bias, r.bias, r.bias};
  const int ix0 = ox * s.strideW - s.padLeft;
  for (int ky = r.ky0; ky < r.ky1; ++ky)
    for (int kx = 0; kx < s.kernelW; ++kx) {
      const V wv = T::load(r.w + (ky * s.kernelW + kx) * L);
#pragma GCC unroll 4
      for (int p = 0; p < 4; ++p)
        acc[p] = T::fmadd(load(r, r.iy0 + ky, ix0 + p * s.strideW + kx), wv,
                          acc[p]);
    }
#pragma GCC unroll 4
  for (int p = 0; p < 4; ++p)
    store(r, ox + p, acc[p]);
}

/// P outputs from ox of a KxK kernel at stride S: per kernel row, the K
/// weights stay in registers and each of the (P - 1) S + K input columns
/// is loaded once for the outputs it feeds (7x7, stride 1, P = 8: 21 loads
/// for 56 FMAs, against 70 in steps of four). Checked: columns outside the
/// row count as zeros (the steps at either end of a row).
template <class T>
template <int K, int S, bool Checked>
void DepthwiseKxK<T>::rowStep(const Row &r, int ox) const {
  V acc[P];
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p)
    acc[p] = r.bias;
  const int ix0 = ox * S - s.padLeft;
  for (int ky = r.ky0; ky < r.ky1; ++ky) {
    V w[K];
#pragma GCC unroll 7
    for (int kx = 0; kx < K; ++kx)
      w[kx] = T::load(r.w + (ky * K + kx) * L);
#pragma GCC unroll 21
    for (int j = 0; j < (P - 1) * S + K; ++j) {
      const int ix = ix0 + j;
      if (Checked && (ix < 0 || ix >= s.inW))
        continue;
      const V x = load(r, r.iy0 + ky, ix);
#pragma GCC unroll 8
      for (int p = 0; p < P; ++p)
        if (j - p * S >= 0 && j - p * S < K)
          acc[p] = T::fmadd(x, w[j - p * S], acc[p]);
    }
  }
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p)
    store(r, ox + p, acc[p]);
}

/// A row of outputs in steps of P: checked steps at each end (the last may
/// overlap the one before it: the same values), unchecked steps between.
template <class T>
template <int K, int S>
void DepthwiseKxK<T>::rowSteps(const Row &r) const {
  int ox = 0;
  for (; ox < xLo && ox < s.outW; ox += P)
    rowStep<K, S, true>(r, std::min(ox, s.outW - P));
  for (; ox + P - 1 <= xHi; ox += P)
    rowStep<K, S, false>(r, ox);
  for (; ox < s.outW; ox += P)
    rowStep<K, S, true>(r, std::min(ox, s.outW - P));
}

/// The row in register-blocked steps where the kernel has them (FastViT's
/// 7x7 at strides 1 and 2, and 5x5); false otherwise.
template <class T> bool DepthwiseKxK<T>::blockedRow(const Row &r) const {
  if (s.strideW > 2)
    return false;
  switch (s.kernelW * 10 + s.strideW) {
  case 71:
    rowSteps<7, 1>(r);
    return true;
  case 72:
    rowSteps<7, 2>(r);
    return true;
  case 51:
    rowSteps<5, 1>(r);
    return true;
  case 52:
    rowSteps<5, 2>(r);
    return true;
  }
  return false;
}

template <class T>
void DepthwiseKxK<T>::outputRow(const float *input, float *output,
                                size_t row) const {
  const size_t b = row / s.outH;
  const int oy = int(row % s.outH);
  Row r;
  r.image = input + b * s.inH * size_t(s.inW) * s.inC;
  r.out = output + row * size_t(s.outW) * s.inC;
  r.iy0 = oy * s.strideH - s.padTop;
  r.ky0 = std::max(0, -r.iy0);
  r.ky1 = std::min(s.kernelH, s.inH - r.iy0);
  r.lo = T::set1(s.outMin);
  r.hi = T::set1(s.outMax);
  for (int chunk = 0; chunk < chunks; ++chunk) {
    r.ch = chunk * L;
    r.lanes = std::min(L, s.inC - r.ch);
    r.mask = T::tail(r.lanes);
    r.w = weights.get() + size_t(chunk) * taps * L;
    r.bias = T::load(bias.get() + r.ch);
    if (s.outW >= P && blockedRow(r))
      continue;
    int ox = 0;
    for (; ox < std::min(xLo, s.outW); ++ox)
      single(r, ox);
    for (; ox + 3 <= xHi; ox += 4)
      four(r, ox);
    for (; ox < s.outW; ++ox)
      single(r, ox);
  }
}

template <class T>
void DepthwiseKxK<T>::runRow(void *context, size_t row) {
  const Task &t = *static_cast<const Task *>(context);
  t.self->outputRow(t.input, t.output, row);
}

/// Input row `row` (of all images) with each channel repeated m times.
template <class T>
void DepthwiseKxK<T>::runExpand(void *context, size_t row) {
  const Task &t = *static_cast<const Task *>(context);
  const DepthwiseKxK &d = *t.self;
  const size_t w = size_t(d.s.inW), m = size_t(d.multiplier);
  const float *in = t.input + row * w * d.inChannels;
  float *out = d.expanded.get() + row * w * d.s.inC;
  const size_t n = w * d.inChannels;
  if (m == 2) { // FastViT's; a loop the compiler vectorises
    for (size_t i = 0; i < n; ++i)
      out[2 * i] = out[2 * i + 1] = in[i];
    return;
  }
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < m; ++j)
      out[i * m + j] = in[i];
}

template <class T>
void DepthwiseKxK<T>::run(const float *input, float *output,
                          pthreadpool_t pool) const {
  Task task{this, input, output};
  if (multiplier > 1) {
    pthreadpool_parallelize_1d(pool, &DepthwiseKxK::runExpand, &task,
                               size_t(s.batch) * s.inH, kPoolFlags);
    task.input = expanded.get();
  }
  pthreadpool_parallelize_1d(pool, &DepthwiseKxK::runRow, &task,
                             size_t(s.batch) * s.outH, kPoolFlags);
}

//===----------------------------------------------------------------------===//
// Direct convolution of few input channels (a stem)
//===----------------------------------------------------------------------===//

/// R consecutive output pixels x lanes*NV channels: for each tap (ky, kx, c)
/// one weight row and one broadcast input per pixel. `p` is pixel 0's
/// window origin, pixels `step` floats apart, taps at `tapOffset`.
template <class T, int R, int NV>
void directTile(const float *p, size_t step, const ptrdiff_t *tapOffset,
                int taps, const float *w, const float *bias, float *out,
                size_t outStep, typename T::Mask lastMask, float lo, float hi,
                float slope) {
  typename T::V acc[R][NV];
  loadBias<T>(acc, bias);
  for (int t = 0; t < taps; ++t, w += T::kLanes * NV) {
    const float *q = p + tapOffset[t];
    rankOneUpdate<T>(acc, w, [q, step](int r) { return q[r * step]; });
  }
  storeClamped<T>(acc, out, outStep, lastMask, lo, hi, slope);
}

template <class T>
using DirectFn = void (*)(const float *, size_t, const ptrdiff_t *, int,
                          const float *, const float *, float *, size_t,
                          typename T::Mask, float, float, float);
constexpr int kDirectMaxPixels = 14;

template <class T, int R, int NV> constexpr DirectFn<T> directEntry() {
  if constexpr (R * NV <= T::kAccumulators)
    return &directTile<T, R, NV>;
  else
    return nullptr;
}
template <class T, int NV, size_t... R>
constexpr auto makeDirectTable(std::index_sequence<R...>) {
  return std::array<DirectFn<T>, sizeof...(R)>{
      directEntry<T, int(R) + 1, NV>()...};
}
/// directTable<T>()[NV - 1][R - 1], null beyond kAccumulators.
template <class T> const auto &directTable() {
  static_assert(T::kDirectGroupVectors <= 4);
  static const std::array<std::array<DirectFn<T>, kDirectMaxPixels>, 4> table =
      {makeDirectTable<T, 1>(std::make_index_sequence<kDirectMaxPixels>()),
       makeDirectTable<T, 2>(std::make_index_sequence<kDirectMaxPixels>()),
       makeDirectTable<T, 3>(std::make_index_sequence<kDirectMaxPixels>()),
       makeDirectTable<T, 4>(std::make_index_sequence<kDirectMaxPixels>())};
  return table;
}

/// Output channels in groups of up to kDirectGroupVectors vectors; each
/// group sweeps a row in tiles of as many pixels as its accumulators allow.
/// Windows that leave the input take a bounds-checked path.
template <class T> class DirectConv : public Kernel {
public:
  DirectConv(const ConvShape &s, const float *weights, const float *bias);
  void run(const float *input, float *output,
           pthreadpool_t pool) const override;

private:
  static constexpr int L = T::kLanes;
  static constexpr int kGroupCols = L * T::kDirectGroupVectors;
  struct Task {
    const DirectConv *self;
    const float *input;
    float *output;
  };
  struct Group {
    int channel, vectors, pixels;
    size_t offset; ///< of its [taps][lanes * vectors] weights
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

template <class T>
DirectConv<T>::DirectConv(const ConvShape &s, const float *w, const float *b)
    : s(s), taps(s.kernelH * s.kernelW * s.inC) {
  for (int ky = 0; ky < s.kernelH; ++ky)
    for (int kx = 0; kx < s.kernelW; ++kx)
      for (int c = 0; c < s.inC; ++c)
        tapOffset.push_back((ptrdiff_t(ky) * s.dilationH * s.inW +
                             ptrdiff_t(kx) * s.dilationW) *
                                s.inC +
                            c);
  size_t total = 0;
  for (int c = 0; c < s.outC; c += kGroupCols) {
    Group g;
    g.channel = c;
    g.vectors = std::min(T::kDirectGroupVectors, (s.outC - c + L - 1) / L);
    g.pixels = std::min(kDirectMaxPixels, T::kAccumulators / g.vectors);
    g.offset = total;
    total += size_t(taps) * L * g.vectors;
    groups.push_back(g);
  }
  weights = allocate(total);
  bias = allocate(size_t(groups.size()) * kGroupCols);
  for (const Group &g : groups)
    for (int j = 0; j < L * g.vectors && g.channel + j < s.outC; ++j) {
      for (int t = 0; t < taps; ++t)
        weights[g.offset + size_t(t) * L * g.vectors + j] =
            w[size_t(g.channel + j) * taps + t];
      if (b)
        bias[g.channel + j] = b[g.channel + j];
    }
  interiorColumns(s, xLo, xHi);
}

/// One output pixel's channel group, skipping taps outside the input.
template <class T>
void DirectConv<T>::border(const float *input, size_t b, long iy0, long ix0,
                           const Group &g, float *out) const {
  typename T::V acc[4];
  for (int v = 0; v < g.vectors; ++v)
    acc[v] = T::load(bias.get() + g.channel + L * v);
  const float *w = weights.get() + g.offset;
  for (int ky = 0; ky < s.kernelH; ++ky) {
    long iy = iy0 + long(ky) * s.dilationH;
    for (int kx = 0; kx < s.kernelW; ++kx) {
      long ix = ix0 + long(kx) * s.dilationW;
      const float *wt =
          w + size_t((ky * s.kernelW + kx) * s.inC) * L * g.vectors;
      if (iy < 0 || iy >= s.inH || ix < 0 || ix >= s.inW)
        continue;
      const float *px = input + ((b * s.inH + iy) * s.inW + ix) * s.inC;
      for (int c = 0; c < s.inC; ++c) {
        typename T::V x = T::set1(px[c]);
        for (int v = 0; v < g.vectors; ++v)
          acc[v] = T::fmadd(
              x, T::load(wt + (size_t(c) * g.vectors + v) * L), acc[v]);
      }
    }
  }
  const typename T::Mask last =
      T::tail(s.outC - g.channel - L * (g.vectors - 1));
  for (int v = 0; v < g.vectors; ++v) {
    typename T::V y = activate<T>(acc[v], T::set1(s.outMin), T::set1(s.outMax),
                                  T::set1(s.slope), s.slope != 1.0f);
    if (v == g.vectors - 1)
      T::storeMasked(out + g.channel + L * v, last, y);
    else
      T::storeu(out + g.channel + L * v, y);
  }
}

template <class T> void DirectConv<T>::runRow(void *context, size_t row) {
  const Task &t = *static_cast<const Task *>(context);
  const DirectConv &d = *t.self;
  const ConvShape &s = d.s;
  size_t b = row / s.outH;
  long oy = long(row % s.outH);
  long iy0 = oy * s.strideH - s.padTop;
  bool rowInside = iy0 >= 0 && iy0 + long(s.kernelH - 1) * s.dilationH < s.inH;
  float *out = t.output + row * size_t(s.outW) * s.outC;
  const size_t step = size_t(s.strideW) * s.inC;
  const auto &table = directTable<T>();
  for (const Group &g : d.groups) {
    const typename T::Mask last =
        T::tail(s.outC - g.channel - L * (g.vectors - 1));
    int ox = 0;
    if (rowInside) {
      for (; ox < d.xLo; ++ox)
        d.border(t.input, b, iy0, long(ox) * s.strideW - s.padLeft, g,
                 out + size_t(ox) * s.outC);
      const float *line = t.input + (b * s.inH + iy0) * size_t(s.inW) * s.inC;
      while (ox <= d.xHi) {
        int r = std::min(g.pixels, d.xHi + 1 - ox);
        table[g.vectors - 1][r - 1](
            line + (long(ox) * s.strideW - s.padLeft) * s.inC, step,
            d.tapOffset.data(), d.taps, d.weights.get() + g.offset,
            d.bias.get() + g.channel, out + size_t(ox) * s.outC + g.channel,
            s.outC, last, s.outMin, s.outMax, s.slope);
        ox += r;
      }
    }
    for (; ox < s.outW; ++ox)
      d.border(t.input, b, iy0, long(ox) * s.strideW - s.padLeft, g,
               out + size_t(ox) * s.outC);
  }
}

template <class T>
void DirectConv<T>::run(const float *input, float *output,
                        pthreadpool_t pool) const {
  Task task{this, input, output};
  pthreadpool_parallelize_1d(pool, &DirectConv::runRow, &task,
                             size_t(s.batch) * s.outH, kPoolFlags);
}

//===----------------------------------------------------------------------===//
// GELU
//===----------------------------------------------------------------------===//

/// e^x for x in about [-87, 88] (clamped), relative error ~1e-7: a
/// Cephes-style polynomial on x - n ln 2, times 2^n.
template <class T> inline typename T::V expApprox(typename T::V x) {
  using V = typename T::V;
  x = T::min(T::max(x, T::set1(-87.0f)), T::set1(88.0f));
  V n = T::round(T::mul(x, T::set1(1.44269504089f)));
  V r = T::fnmadd(n, T::set1(0.693359375f), x);
  r = T::fnmadd(n, T::set1(-2.12194440e-4f), r);
  V p = T::set1(1.9875691500e-4f);
  p = T::fmadd(p, r, T::set1(1.3981999507e-3f));
  p = T::fmadd(p, r, T::set1(8.3334519073e-3f));
  p = T::fmadd(p, r, T::set1(4.1665795894e-2f));
  p = T::fmadd(p, r, T::set1(1.6666665459e-1f));
  p = T::fmadd(p, r, T::set1(5.0000001201e-1f));
  p = T::fmadd(T::mul(p, r), r, T::add(r, T::set1(1.0f)));
  return T::mul(p, T::pow2i(n));
}

/// 0.5 x (1 + erf(x / sqrt 2)), erf by Abramowitz-Stegun 7.1.26 (|error| <=
/// 1.5e-7).
template <class T> inline typename T::V geluErf(typename T::V x) {
  using V = typename T::V;
  const V one = T::set1(1.0f);
  V z = T::mul(x, T::set1(0.70710678118654752f));
  V a = T::abs(z);
  V t = T::div(one, T::fmadd(a, T::set1(0.3275911f), one));
  V poly = T::set1(1.061405429f);
  poly = T::fmadd(poly, t, T::set1(-1.453152027f));
  poly = T::fmadd(poly, t, T::set1(1.421413741f));
  poly = T::fmadd(poly, t, T::set1(-0.284496736f));
  poly = T::fmadd(poly, t, T::set1(0.254829592f));
  poly = T::mul(poly, t);
  V e = expApprox<T>(T::sub(T::zero(), T::mul(a, a)));
  V erf = T::copySign(T::fnmadd(poly, e, one), z);
  return T::mul(T::mul(T::set1(0.5f), x), T::add(one, erf));
}

/// 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), tanh(u) as
/// 1 - 2 / (1 + e^2u).
template <class T> inline typename T::V geluTanh(typename T::V x) {
  using V = typename T::V;
  const V one = T::set1(1.0f);
  V x3 = T::mul(T::mul(x, x), x);
  V u = T::mul(T::set1(0.7978845608028654f),
               T::fmadd(x3, T::set1(0.044715f), x));
  V e = expApprox<T>(T::add(u, u));
  V tanh = T::sub(one, T::div(T::set1(2.0f), T::add(one, e)));
  return T::mul(T::mul(T::set1(0.5f), x), T::add(one, tanh));
}

/// GELU over `elements` floats, split over the pool in chunks of 4096; a
/// tail shorter than a vector goes through the same arithmetic under a
/// mask.
template <class T> class Gelu : public Kernel {
public:
  Gelu(size_t elements, bool approximate)
      : elements(elements), approximate(approximate) {}
  void run(const float *input, float *output,
           pthreadpool_t pool) const override {
    Task task{this, input, output};
    pthreadpool_parallelize_1d(pool, &Gelu::runChunk, &task,
                               (elements + kChunk - 1) / kChunk, kPoolFlags);
  }

private:
  static constexpr size_t kChunk = 4096;
  static constexpr size_t L = T::kLanes;
  struct Task {
    const Gelu *self;
    const float *input;
    float *output;
  };
  template <bool Approximate> static typename T::V f(typename T::V x) {
    return Approximate ? geluTanh<T>(x) : geluErf<T>(x);
  }
  template <bool Approximate>
  static void range(const float *in, float *out, size_t n) {
    size_t i = 0;
    for (; i + L <= n; i += L)
      T::storeu(out + i, f<Approximate>(T::loadu(in + i)));
    if (i < n) {
      typename T::Mask m = T::tail(int(n - i));
      T::storeMasked(out + i, m, f<Approximate>(T::loadMasked(in + i, m)));
    }
  }
  static void runChunk(void *context, size_t c) {
    const Task &t = *static_cast<const Task *>(context);
    size_t lo = c * kChunk, n = std::min(kChunk, t.self->elements - lo);
    if (t.self->approximate)
      range<true>(t.input + lo, t.output + lo, n);
    else
      range<false>(t.input + lo, t.output + lo, n);
  }

  size_t elements;
  bool approximate;
};

} // namespace

namespace mobileone::runtime::kernels::detail {
/// The entry each ISA's file exports (see Kernels.h) for its traits T.
template <class T>
std::unique_ptr<Kernel> createFor(KernelKind kind, const ConvShape &s,
                                  const float *w, const float *b) {
  switch (kind) {
  case KernelKind::Direct:
    return std::make_unique<DirectConv<T>>(s, w, b);
  case KernelKind::Pointwise:
    return std::make_unique<ConvGemm<T>>(s, w, b);
  case KernelKind::DepthwiseKxK:
    return std::make_unique<DepthwiseKxK<T>>(s, w, b);
  case KernelKind::Depthwise3x3:
    if (s.strideH == 2)
      return std::make_unique<Depthwise3x3<T, 2>>(s, w, b);
    return std::make_unique<Depthwise3x3<T, 1>>(s, w, b);
  }
  return nullptr;
}

template <class T>
std::unique_ptr<Kernel> createGeluFor(size_t elements, bool approximate) {
  return std::make_unique<Gelu<T>>(elements, approximate);
}
} // namespace mobileone::runtime::kernels::detail
