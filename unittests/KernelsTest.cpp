//===- KernelsTest.cpp - the runtime's convolution kernels --------------===//
//
// Every path of the native kernels against a double-precision direct
// convolution on seeded random shapes: the 1x1 GEMM (one and two blocks of
// rows, panel tails N % 32 <= 16 and N % 16 != 0, partial row tiles), direct
// convolutions of few taps with any stride, dilation and padding, stride-1
// depthwise with any padding and partial channel groups, split by rows or
// by channels; batch 2, one and two threads; and the shapes they decline.
// Every test of the kernels built per ISA runs once per build this CPU can
// run (KernelsTest.*/avx2, KernelsTest.*/avx512).
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include <gtest/gtest.h>
#include <pthreadpool.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

using namespace mobileone::runtime::kernels;

namespace {

std::vector<float> reference(const ConvShape &s, const std::vector<float> &in,
                             const std::vector<float> &w,
                             const std::vector<float> &b, bool depthwise) {
  std::vector<float> out(size_t(s.batch) * s.outH * s.outW * s.outC);
  for (int n = 0; n < s.batch; ++n)
    for (int oy = 0; oy < s.outH; ++oy)
      for (int ox = 0; ox < s.outW; ++ox)
        for (int o = 0; o < s.outC; ++o) {
          double acc = b[o];
          for (int ky = 0; ky < s.kernelH; ++ky)
            for (int kx = 0; kx < s.kernelW; ++kx) {
              int iy = oy * s.strideH - s.padTop + ky * s.dilationH;
              int ix = ox * s.strideW - s.padLeft + kx * s.dilationW;
              if (iy < 0 || iy >= s.inH || ix < 0 || ix >= s.inW)
                continue;
              const float *p =
                  &in[((size_t(n) * s.inH + iy) * s.inW + ix) * s.inC];
              if (depthwise) // output channel o reads o / multiplier
                acc += double(p[o / (s.outC / s.inC)]) *
                       w[(ky * s.kernelW + kx) * s.outC + o];
              else
                for (int c = 0; c < s.inC; ++c)
                  acc += double(p[c]) *
                         w[((size_t(o) * s.kernelH + ky) * s.kernelW + kx) *
                               s.inC +
                           c];
            }
          acc = std::fmin(std::fmax(acc, s.outMin), s.outMax);
          out[((size_t(n) * s.outH + oy) * s.outW + ox) * s.outC + o] =
              float(acc);
        }
  return out;
}

/// Output size of one spatial dimension, or 0 when the window does not fit.
int outputSize(int in, int kernel, int stride, int dilation, int padBefore,
               int padAfter) {
  int extent = (kernel - 1) * dilation + 1;
  if (in + padBefore + padAfter < extent)
    return 0;
  return (in + padBefore + padAfter - extent) / stride + 1;
}

/// max |a - b|; NaN if any element of `a` is NaN (outputs are filled with
/// NaN before a kernel runs, so an element it never writes fails the
/// comparison: std::fmax would drop the NaN).
double maxDiff(const std::vector<float> &a, const std::vector<float> &b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    double e = std::fabs(double(a[i]) - b[i]);
    if (!(e <= d) && !std::isnan(d)) // NaN sticks
      d = e;
  }
  return d;
}

TEST(KernelsTestHelpers, AnUnwrittenOutputElementFails) {
  std::vector<float> expected = {1.0f, 2.0f, 3.0f};
  std::vector<float> out = {1.0f, NAN, 3.0f};
  EXPECT_FALSE(maxDiff(out, expected) <= 1e-3);
  out[1] = 2.0f;
  EXPECT_TRUE(maxDiff(out, expected) <= 1e-3);
}

class KernelsTest : public ::testing::TestWithParam<Isa> {
protected:
  void SetUp() override {
    if (int(GetParam()) > int(detectIsa()))
      GTEST_SKIP() << "this CPU cannot run the " << isaName(GetParam())
                   << " kernels";
    pool = pthreadpool_create(2);
  }
  void TearDown() override {
    if (pool)
      pthreadpool_destroy(pool);
  }

  /// Runs `kernel` on one and two threads (twice each: a second run must not
  /// reuse the first one's packed input) and compares with the reference.
  void check(const ConvShape &s, bool depthwise, std::mt19937 &rng) {
    std::uniform_real_distribution<float> u(-1, 1);
    std::vector<float> in(size_t(s.batch) * s.inH * s.inW * s.inC);
    std::vector<float> w(depthwise
                             ? size_t(9) * s.inC
                             : size_t(s.outC) * s.kernelH * s.kernelW * s.inC);
    std::vector<float> b(s.outC);
    for (float &x : w)
      x = u(rng);
    for (float &x : b)
      x = u(rng);
    auto kernel = depthwise
                      ? createDepthwiseConv(s, w.data(), b.data(), GetParam())
                      : createConv(s, w.data(), b.data(), GetParam());
    ASSERT_TRUE(kernel);
    if (depthwise && rng() % 2)
      kernel->preferChannelSplit();
    std::vector<float> out(size_t(s.batch) * s.outH * s.outW * s.outC);
    for (pthreadpool_t p : {pthreadpool_t(nullptr), pool})
      for (int run = 0; run < 2; ++run) {
        for (float &x : in)
          x = u(rng);
        std::vector<float> expected = reference(s, in, w, b, depthwise);
        std::fill(out.begin(), out.end(), NAN);
        kernel->run(in.data(), out.data(), p);
        double tolerance = 1e-5 * (s.kernelH * s.kernelW * s.inC + 1);
        ASSERT_LE(maxDiff(out, expected), tolerance)
            << (depthwise ? "depthwise" : "conv") << " in " << s.batch << "x"
            << s.inH << "x" << s.inW << "x" << s.inC << " kernel " << s.kernelH
            << "x" << s.kernelW << " stride " << s.strideH << "," << s.strideW
            << " dilation " << s.dilationH << "," << s.dilationW << " pad "
            << s.padTop << "," << s.padLeft << " out " << s.outH << "x"
            << s.outW << "x" << s.outC << (p ? ", 2 threads" : ", 1 thread");
      }
  }

  pthreadpool_t pool = nullptr;
};

/// A 1x1 stride-1 convolution over batch x h x w pixels.
ConvShape pointwise(int batch, int h, int w, int in, int out, float lo,
                    float hi) {
  ConvShape s;
  s.batch = batch;
  s.inH = s.outH = h;
  s.inW = s.outW = w;
  s.inC = in;
  s.outC = out;
  s.outMin = lo;
  s.outMax = hi;
  return s;
}

TEST_P(KernelsTest, Pointwise) {
  std::mt19937 rng(7);
  // (pixels side, in, out): weights small and large (> 512 KiB: two threads
  // split the panels, not the rows), two blocks of rows for side 32 (> 256 KiB
  // of input); sides 7 and 9 leave partial row tiles; outputs 48, 40 and 13
  // leave 16-wide and masked panels.
  const int cases[][3] = {{9, 32, 48},   {7, 300, 280}, {14, 256, 260},
                          {5, 600, 130}, {3, 64, 13},   {12, 40, 40},
                          {32, 300, 280}, {8, 520, 300}, {32, 400, 340}};
  for (auto [side, in, out] : cases)
    check(pointwise(side == 5 ? 2 : 1, side, side + 1, in, out, 0, INFINITY),
          false, rng);
}

TEST_P(KernelsTest, FreshOperatorsDoNotReuseAnotherRunsPackedInput) {
  // The GEMM caches its packed block per thread; operators created one
  // after another (often at the same address) must not see each other's.
  std::mt19937 rng(3);
  for (int round = 0; round < 4; ++round)
    check(pointwise(1, 7, 7, 300, 280, -INFINITY, INFINITY), false, rng);
}

TEST_P(KernelsTest, RandomPointwise) {
  std::mt19937 rng(11);
  for (int t = 0; t < 80; ++t) {
    int batch = 1 + rng() % 2, h = 1 + rng() % 12, w = 1 + rng() % 12;
    int in = 1 + rng() % 80, out = 1 + rng() % 70;
    float lo = rng() % 2 ? 0.0f : -INFINITY;
    float hi = rng() % 4 ? INFINITY : 0.5f;
    check(pointwise(batch, h, w, in, out, lo, hi), false, rng);
  }
}

TEST_P(KernelsTest, Stems) {
  std::mt19937 rng(5);
  // 3x3x3 stride 2: direct, in channel groups of 64 (48, 64, 96 = 64 + 32,
  // 130 = 2 x 64 + a masked tail), windows leaving the input on every side.
  for (int outC : {48, 64, 96, 130}) {
    ConvShape s;
    s.batch = outC == 96 ? 2 : 1;
    s.inH = 23;
    s.inW = 30;
    s.inC = 3;
    s.outC = outC;
    s.kernelH = s.kernelW = 3;
    s.strideH = s.strideW = 2;
    s.padTop = s.padLeft = 1;
    s.outH = outputSize(s.inH, 3, 2, 1, 1, 1);
    s.outW = outputSize(s.inW, 3, 2, 1, 1, 1);
    s.outMin = 0;
    s.outMax = INFINITY;
    check(s, false, rng);
  }
}

TEST_P(KernelsTest, WideStemsOfFewChannels) {
  std::mt19937 rng(23);
  // Fewer than 16 input channels and more than 64 taps x channels: direct
  // too (ResNet's 7x7x3 stride-2 stem, a 5x5x8 and a 3x3x12 layer), windows
  // leaving the input on every side.
  const int cases[][5] = {{7, 3, 2, 3, 64}, {5, 8, 1, 2, 40}, {3, 12, 2, 1, 96}};
  for (auto [k, inC, stride, pad, outC] : cases) {
    ConvShape s;
    s.inH = 21;
    s.inW = 26;
    s.inC = inC;
    s.outC = outC;
    s.kernelH = s.kernelW = k;
    s.strideH = s.strideW = stride;
    s.padTop = s.padLeft = pad;
    s.outH = outputSize(s.inH, k, stride, 1, pad, pad);
    s.outW = outputSize(s.inW, k, stride, 1, pad, pad);
    s.outMin = 0;
    s.outMax = INFINITY;
    check(s, false, rng);
  }
}

/// Fills in strides (1 to maxStrideW across), dilations (1, 2), the output
/// size for `padTop`/`padLeft` (bottom/right up to one more across) and a
/// clamp; false when the window does not fit.
bool finishDense(ConvShape &s, int maxStrideW, std::mt19937 &rng) {
  s.strideH = 1 + rng() % 2;
  s.strideW = 1 + rng() % maxStrideW;
  s.dilationH = 1 + rng() % 2;
  s.dilationW = 1 + rng() % 2;
  s.outH = outputSize(s.inH, s.kernelH, s.strideH, s.dilationH, s.padTop,
                      s.padTop);
  s.outW = outputSize(s.inW, s.kernelW, s.strideW, s.dilationW, s.padLeft,
                      s.padLeft + int(rng() % 2));
  s.outMin = rng() % 2 ? 0.0f : -INFINITY;
  s.outMax = rng() % 4 ? INFINITY : 0.5f;
  return s.outH && s.outW;
}

TEST_P(KernelsTest, RandomDirectConvolutions) {
  // Any kernel of at most 64 taps other than 1x1: strides, dilations and
  // padding on every side.
  std::mt19937 rng(17);
  for (int t = 0; t < 120; ++t) {
    ConvShape s;
    s.batch = 1 + rng() % 2;
    s.inH = 1 + rng() % 12;
    s.inW = 1 + rng() % 12;
    s.kernelH = 1 + rng() % 3;
    s.kernelW = s.kernelH == 1 ? 2 + rng() % 2 : 1 + rng() % 3;
    s.inC = 1 + rng() % (64 / (s.kernelH * s.kernelW));
    s.outC = 1 + rng() % 140;
    s.padTop = rng() % 2 * (s.kernelH / 2);
    s.padLeft = rng() % 2 * (s.kernelW / 2);
    if (finishDense(s, 3, rng))
      check(s, false, rng);
  }
}

TEST_P(KernelsTest, RandomImplicitGemm) {
  // Kernels of more than 64 taps x channels up to 5x5: any stride, dilation
  // and padding, 1x1 with a stride or padding, channel counts around the
  // vector width, batch 2 (tiles across row and image ends, taps in the
  // padding read as zeros). From 16 channels on the implicit GEMM, below on
  // the direct kernel.
  std::mt19937 rng(19);
  int checked = 0;
  for (int t = 0; t < 120; ++t) {
    ConvShape s;
    s.batch = 1 + rng() % 2;
    s.inH = 1 + rng() % 11;
    s.inW = 1 + rng() % 11;
    s.kernelH = 1 + rng() % 5;
    s.kernelW = 1 + rng() % 5;
    s.inC = 65 / (s.kernelH * s.kernelW) + 1 + rng() % 40;
    s.outC = 1 + rng() % 100;
    s.padTop = int(rng() % (s.kernelH / 2 + 1));
    s.padLeft = int(rng() % (s.kernelW / 2 + 2));
    if (!finishDense(s, 2, rng))
      continue;
    check(s, false, rng);
    ++checked;
  }
  EXPECT_GT(checked, 70);
}

TEST_P(KernelsTest, RandomDepthwise) {
  // Strides 1 and 2 with any padding, heights odd and even (row pairs and a
  // last single row), widths below and above one four-pixel step.
  std::mt19937 rng(13);
  for (int t = 0; t < 300; ++t) {
    ConvShape s;
    s.batch = 1 + rng() % 2;
    s.inH = 1 + rng() % 14;
    s.inW = 1 + rng() % 20;
    s.inC = s.outC = 1 + rng() % 50;
    s.kernelH = s.kernelW = 3;
    s.strideH = s.strideW = 1 + t % 2;
    s.padTop = rng() % 2;
    s.padLeft = rng() % 3 ? 1 : 0;
    s.outH = outputSize(s.inH, 3, s.strideH, 1, s.padTop,
                        s.padTop + int(rng() % 2));
    s.outW = outputSize(s.inW, 3, s.strideW, 1, s.padLeft,
                        s.padLeft + int(rng() % 2));
    s.outMin = rng() % 2 ? 0.0f : -INFINITY;
    s.outMax = INFINITY;
    if (s.outH && s.outW)
      check(s, true, rng);
  }
}

TEST_P(KernelsTest, DepthwiseWideLeftPadding) {
  // A PAD folded into the conv can leave more than four columns of left
  // padding: the checked steps must go on until the window is inside.
  std::mt19937 rng(5);
  for (int stride : {1, 2})
    for (int pad : {2, 4, 5, 7})
      for (int inW : {1, 3, 6, 9, 17}) {
        ConvShape s;
        s.inH = 5;
        s.inW = inW;
        s.inC = s.outC = 20;
        s.kernelH = s.kernelW = 3;
        s.strideH = s.strideW = stride;
        s.padTop = s.padLeft = pad;
        s.outH = outputSize(s.inH, 3, stride, 1, pad, pad);
        s.outW = outputSize(s.inW, 3, stride, 1, pad, pad);
        s.outMin = -INFINITY;
        s.outMax = INFINITY;
        check(s, true, rng);
      }
}

TEST_P(KernelsTest, DeclineOtherShapes) {
  std::vector<float> w(32 * 81 * 32);
  // Dense: more than 64 spatial taps (9x9) and more than 64 taps in all.
  ConvShape s = pointwise(1, 12, 12, 32, 32, -INFINITY, INFINITY);
  s.kernelH = s.kernelW = 9;
  s.padTop = s.padLeft = 4;
  EXPECT_FALSE(createConv(s, w.data(), nullptr, GetParam()));
  // Depthwise: other kernels, dilation, strides above 2 or unequal.
  s = pointwise(1, 8, 8, 32, 32, -INFINITY, INFINITY);
  s.kernelH = s.kernelW = 5;
  s.padTop = s.padLeft = 2;
  EXPECT_FALSE(createDepthwiseConv(s, w.data(), nullptr, GetParam()));
  s.kernelH = s.kernelW = 3;
  s.padTop = s.padLeft = 2;
  s.dilationH = s.dilationW = 2;
  EXPECT_FALSE(createDepthwiseConv(s, w.data(), nullptr, GetParam()));
  s.padTop = s.padLeft = 1;
  s.dilationH = s.dilationW = 1;
  s.strideH = s.strideW = 3;
  s.outH = s.outW = 3;
  EXPECT_FALSE(createDepthwiseConv(s, w.data(), nullptr, GetParam()));
  s.strideH = 2; // different strides
  s.strideW = 1;
  s.outH = 4;
  s.outW = 8;
  EXPECT_FALSE(createDepthwiseConv(s, w.data(), nullptr, GetParam()));
}

/// A 3x3 depthwise layer (ReLU) fused into the 1x1 layer after it: the
/// GEMM computes the depthwise rows per block. Random shapes, strides 1 and
/// 2 and paddings,
/// batch 2, channel tails; one thread, and two where the GEMM splits rows
/// (weights up to 512 KiB; larger ones decline on two threads), twice per
/// kernel; against the two layers' double-precision reference.
TEST_P(KernelsTest, DepthwiseFusedIntoPointwise) {
  std::mt19937 rng(29);
  std::uniform_real_distribution<float> u(-1, 1);
  int fusedRuns = 0;
  for (int t = 0; t < 60; ++t) {
    const bool big = t % 10 == 9; // 300 x 500 weights: 600 KB
    ConvShape d;
    d.batch = 1 + rng() % 2;
    d.inH = 1 + rng() % 12;
    d.inW = 1 + rng() % 12;
    d.inC = d.outC = big ? 300 : 1 + rng() % 50;
    d.kernelH = d.kernelW = 3;
    d.strideH = d.strideW = 1 + t % 2;
    d.padTop = rng() % 2;
    d.padLeft = rng() % 2;
    d.outH = outputSize(d.inH, 3, d.strideH, 1, d.padTop, d.padTop);
    d.outW = outputSize(d.inW, 3, d.strideW, 1, d.padLeft, d.padLeft);
    d.outMin = 0;
    d.outMax = INFINITY;
    if (!d.outH || !d.outW)
      continue;
    ConvShape p = pointwise(d.batch, d.outH, d.outW, d.outC,
                            big ? 500 : 1 + rng() % 70,
                            rng() % 2 ? 0.0f : -INFINITY, INFINITY);
    std::vector<float> dwW(size_t(9) * d.inC), dwB(d.outC);
    std::vector<float> pwW(size_t(p.outC) * p.inC), pwB(p.outC);
    for (auto *v : {&dwW, &dwB, &pwW, &pwB})
      for (float &x : *v)
        x = u(rng);
    auto dw = createDepthwiseConv(d, dwW.data(), dwB.data(), GetParam());
    ASSERT_TRUE(dw && dw->asRowProducer());
    std::vector<float> in(size_t(d.batch) * d.inH * d.inW * d.inC);
    std::vector<float> out(size_t(p.batch) * p.outH * p.outW * p.outC);
    for (int threads : {1, 2}) {
      auto pw = createConv(p, pwW.data(), pwB.data(), GetParam());
      ASSERT_TRUE(pw);
      bool fuses = pw->fuseProducer(*dw->asRowProducer(), threads);
      ASSERT_EQ(fuses, threads == 1 || !big) << "threads " << threads;
      if (!fuses)
        continue;
      EXPECT_FALSE(pw->fuseProducer(*dw->asRowProducer(), threads))
          << "a kernel fuses one producer";
      for (int run = 0; run < 2; ++run) {
        for (float &x : in)
          x = u(rng);
        std::vector<float> mid = reference(d, in, dwW, dwB, true);
        std::vector<float> expected = reference(p, mid, pwW, pwB, false);
        std::fill(out.begin(), out.end(), NAN);
        pw->run(in.data(), out.data(), threads == 1 ? nullptr : pool);
        ASSERT_LE(maxDiff(out, expected), 1e-5 * (9 + p.inC + 1))
            << "dw " << d.batch << "x" << d.inH << "x" << d.inW << "x"
            << d.inC << " stride " << d.strideH << " pad " << d.padTop << "," << d.padLeft << " -> 1x1 "
            << p.outC << ", " << threads << " thread(s)";
        ++fusedRuns;
      }
    }
  }
  EXPECT_GT(fusedRuns, 100);
  // A producer built for the other ISA does not fuse.
  if (detectIsa() == Isa::Avx512) {
    ConvShape d = pointwise(1, 6, 6, 8, 8, -INFINITY, INFINITY);
    d.kernelH = d.kernelW = 3;
    d.padTop = d.padLeft = 1;
    std::vector<float> w(9 * 8, 0.5f);
    Isa other = GetParam() == Isa::Avx2 ? Isa::Avx512 : Isa::Avx2;
    auto dw = createDepthwiseConv(d, w.data(), nullptr, other);
    auto pw = createConv(pointwise(1, 6, 6, 8, 8, -INFINITY, INFINITY),
                         w.data(), nullptr, GetParam());
    EXPECT_FALSE(pw->fuseProducer(*dw->asRowProducer(), 1));
  }
}

/// A NaN in the input stays NaN through the clamp [0, 6] (as in the
/// reference kernels), in each kernel: the pixel's outputs for the 1x1 GEMM,
/// every output of a 3x3 map whose windows all see the centre for the 3x3
/// depthwise and direct kernels.
TEST_P(KernelsTest, NaNPropagates) {
  auto expectNaN = [](const std::vector<float> &out, size_t from, size_t to) {
    for (size_t i = from; i < to; ++i)
      EXPECT_TRUE(std::isnan(out[i])) << "element " << i << " = " << out[i];
  };
  // 1x1: 4x4 pixels of 40 channels -> 24, pixel 5 NaN.
  ConvShape s = pointwise(1, 4, 4, 40, 24, 0.0f, 6.0f);
  std::vector<float> w(40 * 24, 0.5f), in(16 * 40, 1.0f), out(16 * 24, 0.0f);
  in[5 * 40 + 7] = NAN;
  auto gemm = createConv(s, w.data(), nullptr, GetParam());
  ASSERT_TRUE(gemm);
  gemm->run(in.data(), out.data(), nullptr);
  expectNaN(out, 5 * 24, 6 * 24);
  EXPECT_FALSE(std::isnan(out[4 * 24]));
  // 3x3 depthwise and 3x3x3 direct, padding 1, the centre of a 3x3 map NaN.
  for (bool depthwise : {true, false}) {
    s = pointwise(1, 3, 3, depthwise ? 20 : 3, 20, 0.0f, 6.0f);
    s.kernelH = s.kernelW = 3;
    s.padTop = s.padLeft = 1;
    w.assign(size_t(9) * 20 * s.inC, 0.5f);
    in.assign(size_t(9) * s.inC, 1.0f);
    out.assign(9 * 20, 0.0f);
    for (int c = 0; c < s.inC; ++c)
      in[size_t(4) * s.inC + c] = NAN;
    auto kernel = depthwise
                      ? createDepthwiseConv(s, w.data(), nullptr, GetParam())
                      : createConv(s, w.data(), nullptr, GetParam());
    ASSERT_TRUE(kernel);
    kernel->run(in.data(), out.data(), nullptr);
    expectNaN(out, 0, out.size());
  }
  // 3x3 depthwise on a 3x12 map (the four-pixel steps, checked and not):
  // the outputs whose windows see the NaN column 6 are NaN, the rest not.
  s = pointwise(1, 3, 12, 20, 20, 0.0f, 6.0f);
  s.kernelH = s.kernelW = 3;
  s.padTop = s.padLeft = 1;
  w.assign(9 * 20, 0.5f);
  in.assign(36 * 20, 1.0f);
  out.assign(36 * 20, 0.0f);
  for (int y = 0; y < 3; ++y)
    for (int c = 0; c < 20; ++c)
      in[(size_t(y) * 12 + 6) * 20 + c] = NAN;
  auto dw = createDepthwiseConv(s, w.data(), nullptr, GetParam());
  ASSERT_TRUE(dw);
  dw->run(in.data(), out.data(), nullptr);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 12; ++x)
      for (int c = 0; c < 20; ++c) {
        float v = out[(size_t(y) * 12 + x) * 20 + c];
        EXPECT_EQ(std::isnan(v), x >= 5 && x <= 7)
            << "output " << y << "," << x << " = " << v;
      }
}

/// Depthwise KxK: kernels 1 to 7 (square and not), strides 1 and 2, depth
/// multipliers 1 to 3, any padding (bottom/right up to one more than
/// top/left), channel tails, batch 2, fused clamp; every output element
/// written, one and two threads, against the double-precision reference.
TEST_P(KernelsTest, RandomDepthwiseKxK) {
  std::mt19937 rng(21);
  std::uniform_real_distribution<float> u(-1, 1);
  int checked = 0;
  for (int t = 0; t < 240; ++t) {
    ConvShape s;
    s.batch = 1 + rng() % 2;
    s.kernelH = 1 + rng() % 7;
    s.kernelW = rng() % 3 ? s.kernelH : 1 + int(rng() % 7);
    s.strideH = s.strideW = 1 + rng() % 2;
    s.inH = 1 + rng() % 20;
    s.inW = 1 + rng() % 24;
    s.inC = 1 + rng() % 40;
    s.outC = s.inC * (t % 4 == 3 ? 2 + int(rng() % 2) : 1);
    s.padTop = int(rng() % (s.kernelH / 2 + 1));
    s.padLeft = int(rng() % (s.kernelW / 2 + 1));
    s.outH = outputSize(s.inH, s.kernelH, s.strideH, 1, s.padTop,
                        s.padTop + int(rng() % 2));
    s.outW = outputSize(s.inW, s.kernelW, s.strideW, 1, s.padLeft,
                        s.padLeft + int(rng() % 2));
    s.outMin = rng() % 2 ? 0.0f : -INFINITY;
    s.outMax = INFINITY;
    if (!s.outH || !s.outW)
      continue;
    std::vector<float> in(size_t(s.batch) * s.inH * s.inW * s.inC);
    std::vector<float> w(size_t(s.kernelH) * s.kernelW * s.outC), b(s.outC);
    for (float &x : w)
      x = u(rng);
    for (float &x : b)
      x = u(rng);
    auto kernel = createDepthwiseKxK(s, w.data(), b.data(), GetParam());
    ASSERT_TRUE(kernel);
    std::vector<float> out(size_t(s.batch) * s.outH * s.outW * s.outC);
    for (pthreadpool_t p : {pthreadpool_t(nullptr), pool}) {
      for (float &x : in)
        x = u(rng);
      std::vector<float> expected = reference(s, in, w, b, true);
      std::fill(out.begin(), out.end(), NAN);
      kernel->run(in.data(), out.data(), p);
      ASSERT_LE(maxDiff(out, expected), 1e-5 * (s.kernelH * s.kernelW + 1))
          << "depthwise " << s.kernelH << "x" << s.kernelW << " stride "
          << s.strideH << " in " << s.batch << "x" << s.inH << "x" << s.inW
          << "x" << s.inC << " multiplier " << s.outC / s.inC << " pad "
          << s.padTop << "," << s.padLeft << " out " << s.outH << "x"
          << s.outW << (p ? ", 2 threads" : ", 1 thread");
    }
    ++checked;
  }
  EXPECT_GT(checked, 180);
  // Rows wide enough for the register-blocked 5x5 and 7x7 steps at strides
  // 1 and 2 (checked steps at both ends, unchecked between), with and
  // without a channel tail, multipliers 1 and 2.
  for (int k : {5, 7})
    for (int c : {16, 37})
      for (int m : {1, 2})
        for (int stride : {1, 2}) {
        ConvShape s = pointwise(2, 9, 41, c, c * m, 0.0f, INFINITY);
        s.kernelH = s.kernelW = k;
        s.strideH = s.strideW = stride;
        s.padTop = s.padLeft = k / 2;
        s.outH = outputSize(9, k, stride, 1, k / 2, k / 2);
        s.outW = outputSize(41, k, stride, 1, k / 2, k / 2);
        std::vector<float> in(size_t(2) * 9 * 41 * c), b(c * m);
        std::vector<float> w(size_t(k) * k * c * m);
        for (auto *v : {&in, &b, &w})
          for (float &x : *v)
            x = u(rng);
        auto kernel = createDepthwiseKxK(s, w.data(), b.data(), GetParam());
        ASSERT_TRUE(kernel);
        std::vector<float> expected = reference(s, in, w, b, true);
        std::vector<float> out(expected.size(), NAN);
        kernel->run(in.data(), out.data(), pool);
        ASSERT_LE(maxDiff(out, expected), 1e-5 * (k * k + 1))
            << k << "x" << k << " stride " << stride << ", " << c
            << " channels, multiplier " << m;
        }
  // Declined: dilation, and outputs that are not a multiple of the input.
  ConvShape s = pointwise(1, 8, 8, 4, 6, -INFINITY, INFINITY);
  s.kernelH = s.kernelW = 5;
  s.padTop = s.padLeft = 2;
  std::vector<float> w(25 * 8);
  EXPECT_FALSE(createDepthwiseKxK(s, w.data(), nullptr, GetParam()));
  s.outC = 8;
  s.dilationH = s.dilationW = 2;
  s.padTop = s.padLeft = 4;
  EXPECT_FALSE(createDepthwiseKxK(s, w.data(), nullptr, GetParam()));
}

/// A NaN in the input stays NaN through the KxK kernel's clamp (as in the
/// reference kernels): every 5x5 window of a 3x3 map with padding 2 sees
/// the centre.
TEST_P(KernelsTest, DepthwiseKxKNaNPropagates) {
  ConvShape s;
  s.inH = s.inW = s.outH = s.outW = 3;
  s.inC = s.outC = 11;
  s.kernelH = s.kernelW = 5;
  s.padTop = s.padLeft = 2;
  s.outMin = 0.0f;
  s.outMax = 6.0f;
  std::vector<float> w(25 * 11, 0.5f), in(9 * 11, 1.0f), out(9 * 11, 0.0f);
  auto kernel = createDepthwiseKxK(s, w.data(), nullptr, GetParam());
  ASSERT_TRUE(kernel);
  for (int c = 0; c < 11; ++c)
    in[4 * 11 + c] = NAN;
  kernel->run(in.data(), out.data(), nullptr);
  for (float v : out)
    EXPECT_TRUE(std::isnan(v));
}

/// GELU, exact and tanh forms, within 1e-6 * max(1, |x|) of the formula in
/// double; lengths around the vector width and the 4096-float chunks.
TEST_P(KernelsTest, GeluMatchesTheFormula) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-12, 12);
  for (bool approximate : {false, true})
    for (size_t n : {1, 7, 8, 9, 15, 16, 17, 31, 4095, 4096, 4097, 20000}) {
      std::vector<float> in(n), out(n);
      for (float &x : in)
        x = u(rng);
      in[0] = 0.0f;
      auto kernel = createGelu(n, approximate, GetParam());
      ASSERT_TRUE(kernel);
      for (pthreadpool_t p : {pthreadpool_t(nullptr), pool}) {
        std::fill(out.begin(), out.end(), NAN);
        kernel->run(in.data(), out.data(), p);
        for (size_t i = 0; i < n; ++i) {
          double x = in[i];
          double want =
              approximate
                  ? 0.5 * x *
                        (1 + std::tanh(std::sqrt(2 / M_PI) *
                                       (x + 0.044715 * x * x * x)))
                  : 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
          ASSERT_TRUE(std::fabs(out[i] - want) <=
                      1e-6 * std::max(1.0, std::fabs(x)))
              << (approximate ? "tanh" : "erf") << " GELU(" << x << ") = "
              << out[i] << ", expected " << want << " (n " << n << ", "
              << (p ? "2 threads" : "1 thread") << ")";
        }
      }
    }
}


INSTANTIATE_TEST_SUITE_P(, KernelsTest,
                         ::testing::Values(Isa::Avx2, Isa::Avx512),
                         [](const ::testing::TestParamInfo<Isa> &info) {
                           return std::string(isaName(info.param));
                         });

} // namespace
