//===- KernelsInt8Test.cpp - int8 kernels bit-exact to the reference -----===//
//
// Our int8 convolutions (KernelsInt8.cpp), created from a model's operator
// as the runtime creates them, against the reference int8
// kernel the runtime falls back to (Quantized.cpp's runQuantizedOp, the one
// checked against TensorFlow Lite's interpreter), on seeded random models:
// every output element equal. Outputs are written over two different
// sentinel fills, so an element a kernel never writes fails one of them.
// Shapes cover partial row tiles (M % 6), partial channel blocks (N % 16,
// depthwise C % 16), odd reductions, im2col with padding on every side,
// strides and dilations, the zero points at both extremes (-128, 127),
// weights of -128, per-tensor and per-channel multipliers with small and
// large shifts, a ReLU clamp; one, two and three threads.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"
#include "Model.h"
#include "Quantized.h"

#include <gtest/gtest.h>
#include <pthreadpool.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

using namespace mobileone::runtime;
using namespace mobileone::runtime::kernels;

namespace {

struct Case {
  enum Kind { Dense, Depthwise, FullyConnected } kind = Dense;
  int batch = 1, h = 1, w = 1, cin = 1, cout = 1;
  int kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int padTop = 0, padLeft = 0, padBottom = 0, padRight = 0;
  int32_t inputZero = 0, outputZero = 0;
  bool perChannel = true, relu = false;
  /// Scales the output scale: small values give large multipliers
  /// (positive shifts), large ones tiny multipliers.
  double outputScale = 1.0;
  std::string name() const {
    return std::to_string(kind) + ":" + std::to_string(batch) + "x" +
           std::to_string(h) + "x" + std::to_string(w) + "x" +
           std::to_string(cin) + "->" + std::to_string(cout) + " k" +
           std::to_string(kh) + "x" + std::to_string(kw) + " s" +
           std::to_string(sh) + std::to_string(sw) + " d" +
           std::to_string(dh) + std::to_string(dw) + " zx " +
           std::to_string(inputZero) + " zy " + std::to_string(outputZero);
  }
};

int outputSize(int in, int kernel, int stride, int dilation, int before,
               int after) {
  return (in + before + after - ((kernel - 1) * dilation + 1)) / stride + 1;
}

/// Builds the one-op model of `c`, runs the reference kernel and ours on
/// 1, 2 and 3 threads, and expects equal outputs.
void check(const Case &c, uint64_t seed) {
  SCOPED_TRACE(c.name());
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> byte(-128, 127);
  std::uniform_real_distribution<double> unit(0.5, 1.5);
  const bool fc = c.kind == Case::FullyConnected;
  const bool depthwise = c.kind == Case::Depthwise;
  const int oh = fc ? 1 : outputSize(c.h, c.kh, c.sh, c.dh, c.padTop, c.padBottom);
  const int ow = fc ? 1 : outputSize(c.w, c.kw, c.sw, c.dw, c.padLeft, c.padRight);
  ASSERT_GT(oh, 0);
  ASSERT_GT(ow, 0);

  Model m;
  m.tensors.resize(4);
  Tensor &x = m.tensors[0], &wt = m.tensors[1], &b = m.tensors[2],
         &y = m.tensors[3];
  x.type = wt.type = y.type = ElementType::Int8;
  b.type = ElementType::Int32;
  if (fc) {
    x.shape = {c.batch, c.cin};
    wt.shape = {c.cout, c.cin};
    y.shape = {c.batch, c.cout};
  } else {
    x.shape = {c.batch, c.h, c.w, c.cin};
    wt.shape = depthwise ? std::vector<int64_t>{1, c.kh, c.kw, c.cout}
                         : std::vector<int64_t>{c.cout, c.kh, c.kw, c.cin};
    y.shape = {c.batch, oh, ow, c.cout};
  }
  b.shape = {c.cout};
  for (Tensor *t : {&x, &wt, &b, &y}) {
    t->elements = 1;
    for (int64_t d : t->shape)
      t->elements *= d;
  }
  std::vector<int8_t> in(x.elements), weights(wt.elements);
  for (int8_t &v : in)
    v = int8_t(byte(rng));
  for (int8_t &v : weights)
    v = int8_t(byte(rng)); // -128 included: the kernels must not care
  const int64_t depth = fc ? c.cin : depthwise ? c.kh * c.kw : c.kh * c.kw * c.cin;
  const float inputScale = 0.02f;
  x.quant.scale = {inputScale};
  x.quant.zeroPoint = {c.inputZero};
  const int scales = c.perChannel ? c.cout : 1;
  wt.quant.axis = depthwise ? 3 : 0;
  for (int i = 0; i < scales; ++i) {
    wt.quant.scale.push_back(float(0.004 * unit(rng)));
    wt.quant.zeroPoint.push_back(0);
  }
  std::vector<int32_t> bias(c.cout);
  std::uniform_int_distribution<int32_t> biasValue(-(1 << 16), 1 << 16);
  for (int32_t &v : bias)
    v = biasValue(rng);
  for (int o = 0; o < scales; ++o) {
    b.quant.scale.push_back(inputScale * wt.quant.scale[o]);
    b.quant.zeroPoint.push_back(0);
  }
  // About one output step per (128 x 128 x sqrt(depth)) of accumulator.
  y.quant.scale = {float(inputScale * 0.004 * 128 * 128 *
                         std::sqrt(double(depth)) / 64 * c.outputScale)};
  y.quant.zeroPoint = {c.outputZero};
  x.data = nullptr;
  wt.data = weights.data();
  b.data = bias.data();

  Op op;
  op.kind = fc          ? OpKind::FullyConnected
            : depthwise ? OpKind::DepthwiseConv
                        : OpKind::Conv;
  op.opName = fc ? "FULLY_CONNECTED" : depthwise ? "DEPTHWISE_CONV_2D" : "CONV_2D";
  op.inputs = {0, 1, 2};
  op.output = 3;
  op.kernelH = c.kh;
  op.kernelW = c.kw;
  op.strideH = c.sh;
  op.strideW = c.sw;
  op.dilationH = c.dh;
  op.dilationW = c.dw;
  op.padTop = c.padTop;
  op.padLeft = c.padLeft;
  op.padBottom = c.padBottom;
  op.padRight = c.padRight;
  op.quantized = true;
  if (c.relu)
    op.outMin = 0.0f;
  std::string why;
  ASSERT_TRUE(prepareQuantizedOp(m, op, why)) << why;

  std::vector<int8_t> expected(y.elements);
  runQuantizedOp(m, op, {in.data(), weights.data(), bias.data()},
                 expected.data());

  // Not a vacuous comparison: at the usual output scale the outputs take
  // many values (the extreme scales saturate or round everything to zero,
  // and a ReLU clamped from the zero point 127 leaves 127 alone).
  int distinct = 0;
  std::vector<bool> seen(256, false);
  for (int8_t v : expected)
    if (!seen[uint8_t(v)]) {
      seen[uint8_t(v)] = true;
      ++distinct;
    }
  if (c.outputScale == 1.0 && !(c.relu && c.outputZero == 127))
    EXPECT_GE(distinct, std::min<int64_t>(8, y.elements / 4));

  // Every build this CPU runs: AVX2, and on AVX-512 CPUs the AVX-512 one
  // (the VNNI GEMM where the CPU has VNNI).
  for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
    if (int(isa) > int(detectIsa()))
      continue;
    SCOPED_TRACE(isaName(isa));
    std::unique_ptr<KernelInt8> kernel = createConvInt8(m, op, isa);
    ASSERT_TRUE(kernel);
    for (int threads : {1, 2, 3}) {
      pthreadpool_t pool = threads > 1 ? pthreadpool_create(threads) : nullptr;
      for (int8_t sentinel : {int8_t(0x55), int8_t(-0x56)}) {
        std::vector<int8_t> out(y.elements, sentinel);
        kernel->run(in.data(), out.data(), pool);
        int64_t differ = 0, first = -1;
        for (int64_t i = 0; i < y.elements; ++i)
          if (out[i] != expected[i] && differ++ == 0)
            first = i;
        EXPECT_EQ(differ, 0) << threads << " threads: first at " << first
                             << ": " << int(out[first]) << " against "
                             << int(expected[first]);
      }
      if (pool)
        pthreadpool_destroy(pool);
    }
  }
}

class KernelsInt8Test : public ::testing::Test {
protected:
  void SetUp() override {
    if (detectIsa() == Isa::None)
      GTEST_SKIP() << "this CPU has no AVX2: the int8 kernels are not built";
  }
};

TEST_F(KernelsInt8Test, PointwiseTilesAndBlocks) {
  uint64_t seed = 1;
  for (int pixels : {1, 5, 6, 7, 13, 49})
    for (int cin : {1, 3, 16, 17, 48})
      for (int cout : {1, 8, 15, 16, 17, 33}) {
        Case c;
        c.h = 1;
        c.w = pixels;
        c.cin = cin;
        c.cout = cout;
        c.inputZero = int32_t(seed * 37 % 256) - 128;
        c.outputZero = int32_t(seed * 91 % 256) - 128;
        check(c, seed++);
      }
}

TEST_F(KernelsInt8Test, PointwiseLargeAndThreaded) {
  Case c;
  c.batch = 2;
  c.h = 14;
  c.w = 15;
  c.cin = 130;
  c.cout = 72;
  check(c, 100);
  c.cin = 1024; // a chunk of fewer rows than the layer
  c.cout = 40;
  check(c, 101);
}

TEST_F(KernelsInt8Test, ZeroPointExtremesAndClamp) {
  uint64_t seed = 200;
  for (int32_t zx : {-128, 127, 0})
    for (int32_t zy : {-128, 127, 0})
      for (bool relu : {false, true})
        for (Case::Kind kind : {Case::Dense, Case::Depthwise}) {
          Case c;
          c.kind = kind;
          c.h = 7;
          c.w = 9;
          c.cin = kind == Case::Dense ? 12 : 20;
          c.cout = 20;
          c.kh = c.kw = 3;
          c.padTop = c.padLeft = c.padBottom = c.padRight = 1;
          c.inputZero = zx;
          c.outputZero = zy;
          c.relu = relu;
          check(c, seed++);
        }
}

TEST_F(KernelsInt8Test, MultipliersPerTensorSmallAndLarge) {
  uint64_t seed = 300;
  for (bool perChannel : {true, false})
    for (double scale : {1e-3, 0.05, 1.0, 40.0, 3e4}) {
      Case c;
      c.h = 5;
      c.w = 5;
      c.cin = 24;
      c.cout = 19;
      c.perChannel = perChannel;
      c.outputScale = scale;
      check(c, seed++);
      c.kind = Case::Depthwise;
      c.cin = c.cout;
      c.kh = c.kw = 3;
      c.padTop = c.padLeft = 1;
      c.padBottom = c.padRight = 1;
      check(c, seed++);
    }
}

TEST_F(KernelsInt8Test, DenseIm2col) {
  uint64_t seed = 400;
  // Stems (3 channels, stride 2), RepVGG-style 3x3, asymmetric padding,
  // dilation, kernels wider than the image.
  struct Shape {
    int h, w, cin, cout, k, s, d, pt, pl, pb, pr;
  };
  for (Shape sh : {Shape{17, 15, 3, 48, 3, 2, 1, 1, 1, 1, 1},
                   Shape{12, 12, 3, 16, 7, 2, 1, 3, 3, 3, 3},
                   Shape{9, 11, 20, 24, 3, 1, 1, 1, 1, 1, 1},
                   Shape{9, 11, 20, 24, 3, 2, 1, 0, 0, 1, 1},
                   Shape{10, 10, 8, 17, 3, 1, 2, 2, 2, 2, 2},
                   Shape{4, 5, 5, 9, 5, 1, 1, 3, 1, 2, 4},
                   Shape{6, 6, 33, 31, 2, 2, 1, 0, 1, 0, 0}}) {
    Case c;
    c.batch = 2;
    c.h = sh.h;
    c.w = sh.w;
    c.cin = sh.cin;
    c.cout = sh.cout;
    c.kh = c.kw = sh.k;
    c.sh = c.sw = sh.s;
    c.dh = c.dw = sh.d;
    c.padTop = sh.pt;
    c.padLeft = sh.pl;
    c.padBottom = sh.pb;
    c.padRight = sh.pr;
    c.inputZero = int32_t(seed % 7) * 40 - 128;
    check(c, seed++);
  }
}

TEST_F(KernelsInt8Test, DepthwiseKernelsStridesChannels) {
  uint64_t seed = 500;
  for (int channels : {1, 8, 16, 17, 48, 50})
    for (int k : {3, 5, 7})
      for (int stride : {1, 2}) {
        Case c;
        c.kind = Case::Depthwise;
        c.batch = 2;
        c.h = 9;
        c.w = 8;
        c.cin = c.cout = channels;
        c.kh = c.kw = k;
        c.sh = c.sw = stride;
        c.padTop = c.padLeft = k / 2;
        c.padBottom = c.padRight = k / 2 - (stride == 2 ? 1 : 0);
        c.inputZero = int32_t(seed * 53 % 256) - 128;
        check(c, seed++);
      }
  Case dilated;
  dilated.kind = Case::Depthwise;
  dilated.h = dilated.w = 12;
  dilated.cin = dilated.cout = 32;
  dilated.kh = dilated.kw = 3;
  dilated.dh = dilated.dw = 2;
  dilated.padTop = dilated.padLeft = dilated.padBottom = dilated.padRight = 2;
  check(dilated, seed++);
  Case wide = dilated; // 1 x 7 taps, no dilation
  wide.kh = 1;
  wide.kw = 7;
  wide.dh = wide.dw = 1;
  wide.padTop = wide.padBottom = 0;
  wide.padLeft = wide.padRight = 3;
  check(wide, seed++);
}

TEST_F(KernelsInt8Test, FullyConnected) {
  uint64_t seed = 600;
  for (int rows : {1, 4, 7})
    for (bool perChannel : {true, false}) {
      Case c;
      c.kind = Case::FullyConnected;
      c.batch = rows;
      c.cin = 1024;
      c.cout = 1000;
      c.perChannel = perChannel;
      c.inputZero = -128;
      check(c, seed++);
    }
}

TEST_F(KernelsInt8Test, DeclinesWhatItDoesNotTake) {
  int32_t multiplier = 1 << 30;
  int shift = 0;
  std::vector<int8_t> weights(64 * 64, 1);
  QuantizedConv c;
  c.shape.inH = c.shape.inW = c.shape.outH = c.shape.outW = 4;
  c.shape.inC = 4;
  c.shape.outC = 8;
  c.weights = weights.data();
  c.multiplier = &multiplier;
  c.shift = &shift;
  c.depthwise = true; // a multiplier of 2
  EXPECT_FALSE(createConvInt8(c, Isa::Avx2));
  c.depthwise = false;
  EXPECT_TRUE(createConvInt8(c, Isa::Avx2));
  EXPECT_FALSE(createConvInt8(c, Isa::None));
  c.channels = 3; // neither one nor outC multipliers
  EXPECT_FALSE(createConvInt8(c, Isa::Avx2));
  c.channels = 1;
  shift = 31; // outside quantizeMultiplier's range
  EXPECT_FALSE(createConvInt8(c, Isa::Avx2));
}

} // namespace

namespace {

TEST(QuantizeFloats, MatchesTheScalarDefinition) {
  if (detectIsa() == Isa::None)
    GTEST_SKIP() << "this CPU has no AVX2";
  // Ties in both directions, values just inside and outside the int8
  // range, infinities, NaN, zeros of both signs, denormals; then random
  // values; every length mod 8.
  std::vector<float> values = {0.5f,  -0.5f, 1.5f,     -1.5f,   2.5f,
                               -2.5f, 0.0f,  -0.0f,    126.5f,  127.5f,
                               -128.5f, -127.5f, 1e30f, -1e30f, INFINITY,
                               -INFINITY, NAN, 1e-40f, -1e-40f,
                               std::nextafter(0.5f, 0.0f),
                               std::nextafter(-0.5f, 0.0f), 8388609.0f};
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> wide(-300.0f, 300.0f);
  for (int i = 0; i < 1000; ++i)
    values.push_back(wide(rng));
  for (float scale : {1.0f, 0.5f, 0.0371f, 3.0f})
    for (int32_t zero : {-128, -3, 0, 127})
      for (size_t n : {values.size(), size_t(7), size_t(9), size_t(16)}) {
        std::vector<int8_t> out(n, 0x55);
        ASSERT_TRUE(quantizeFloats(values.data(), out.data(), n, scale, zero));
        for (size_t i = 0; i < n; ++i) {
          const float v = values[i];
          int8_t want = int8_t(zero);
          if (!std::isnan(v))
            want = int8_t(std::min(
                127.0f,
                std::max(-128.0f, std::round(v / scale) + float(zero))));
          ASSERT_EQ(int(out[i]), int(want))
              << "value " << v << " scale " << scale << " zero " << zero;
        }
      }
}

} // namespace

namespace {

TEST(MulInt8, MatchesTheScalarDefinition) {
  if (detectIsa() == Isa::None)
    GTEST_SKIP() << "this CPU has no AVX2";
  // Same shapes, squeeze-excite's [N, 1, 1, C] gate and one value (an
  // int8 -> int8 QUANTIZE multiplies by 1), channel tails,
  // zero points at both ends, multipliers on both requantisation paths
  // (below 1/4: the high halves; above: the 64-bit rounding), a clamp.
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> byte(-128, 127);
  for (int bKind : {0, 1, 2}) // per pixel, per image, one value
    for (bool perPixel : {bKind == 0})
    for (size_t channels : {size_t(1), size_t(7), size_t(8), size_t(19), size_t(64)})
      for (double real : {3e-3, 0.2, 0.9, 7.0})
        for (int32_t zeros : {-128, 0, 127}) {
          const size_t images = 2, pixels = 5;
          std::vector<int8_t> a(images * pixels * channels),
              b(bKind == 2 ? 1 : (perPixel ? images * pixels : images) * channels);
          for (int8_t &v : a)
            v = int8_t(byte(rng));
          for (int8_t &v : b)
            v = int8_t(byte(rng));
          MulInt8 m;
          m.a = a.data();
          m.b = b.data();
          m.images = images;
          m.pixels = pixels;
          m.channels = channels;
          m.bPerPixel = perPixel;
          m.bScalar = bKind == 2;
          m.zeroA = zeros;
          m.zeroB = -zeros / 2;
          m.outputZero = zeros == 127 ? -20 : zeros;
          m.activationMin = zeros == 0 ? -100 : -128;
          quantizeMultiplier(real, m.multiplier, m.shift);
          std::vector<int8_t> out(a.size(), 0x55), out2(a.size(), -0x56);
          m.out = out.data();
          ASSERT_TRUE(mulInt8(m));
          m.out = out2.data();
          ASSERT_TRUE(mulInt8(m));
          for (size_t i = 0; i < a.size(); ++i) {
            const size_t row = i / channels, c = i % channels;
            const int8_t vb =
                bKind == 2 ? b[0] : b[(perPixel ? row : row / pixels) * channels + c];
            int32_t want = multiplyByQuantizedMultiplier(
                (int32_t(a[i]) - m.zeroA) * (int32_t(vb) - m.zeroB),
                m.multiplier, m.shift);
            want = std::min(std::max(want + m.outputZero, m.activationMin),
                            m.activationMax);
            ASSERT_EQ(int(out[i]), want) << "element " << i << " real " << real;
            ASSERT_EQ(int(out2[i]), want) << "element " << i;
          }
        }
}

} // namespace

namespace {

TEST(AddInt8, MatchesTheScalarDefinition) {
  if (detectIsa() == Isa::None)
    GTEST_SKIP() << "this CPU has no AVX2";
  // TFLite's int8 ADD / SUB: inputs onto twice the larger scale with 20
  // bits of headroom, the sum requantised. Lengths with tails, zero points
  // at both ends, input scales apart (the input multipliers on both
  // requantisation paths), output scales small and large, a clamp; both
  // runs into sentinel-filled buffers.
  std::mt19937 rng(12);
  std::uniform_int_distribution<int> byte(-128, 127);
  for (bool subtract : {false, true})
    for (size_t n : {size_t(1), size_t(7), size_t(8), size_t(37), size_t(256)})
      for (double ratio : {1.0, 0.3, 3.7})
        for (double outScale : {0.02, 0.5})
          for (int32_t zeros : {-128, 0, 127}) {
            std::vector<int8_t> a(n), b(n);
            for (int8_t &v : a)
              v = int8_t(byte(rng));
            for (int8_t &v : b)
              v = int8_t(byte(rng));
            const double sa = 0.05, sb = 0.05 * ratio,
                         twiceMax = 2.0 * std::max(sa, sb);
            AddInt8 k;
            k.a = a.data();
            k.b = b.data();
            k.elements = n;
            k.subtract = subtract;
            k.zeroA = zeros;
            k.zeroB = -zeros / 2;
            k.outputZero = zeros == 127 ? -20 : zeros;
            k.activationMin = zeros == 0 ? -100 : -128;
            quantizeMultiplier(sa / twiceMax, k.multiplierA, k.shiftA);
            quantizeMultiplier(sb / twiceMax, k.multiplierB, k.shiftB);
            quantizeMultiplier(twiceMax / (double(1 << 20) * outScale),
                               k.multiplier, k.shift);
            for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
            if (int(isa) > int(detectIsa()))
              continue;
            std::vector<int8_t> out(n, 0x55), out2(n, -0x56);
            k.out = out.data();
            ASSERT_TRUE(addInt8(k, isa));
            k.out = out2.data();
            ASSERT_TRUE(addInt8(k, isa));
            for (size_t i = 0; i < n; ++i) {
              const int32_t va = multiplyByQuantizedMultiplier(
                  (int32_t(a[i]) - k.zeroA) * (1 << 20), k.multiplierA, k.shiftA);
              const int32_t vb = multiplyByQuantizedMultiplier(
                  (int32_t(b[i]) - k.zeroB) * (1 << 20), k.multiplierB, k.shiftB);
              int32_t want = multiplyByQuantizedMultiplier(
                  subtract ? va - vb : va + vb, k.multiplier, k.shift);
              want = std::min(std::max(want + k.outputZero, k.activationMin),
                              k.activationMax);
              ASSERT_EQ(int(out[i]), want)
                  << isaName(isa) << ": element " << i << " of " << n;
              ASSERT_EQ(int(out2[i]), want) << isaName(isa) << ": element " << i;
            }
            }
          }
}

} // namespace

namespace {

TEST(LookupInt8, EveryIndexEveryLength) {
  if (detectIsa() == Isa::None)
    GTEST_SKIP() << "this CPU has no AVX2";
  std::mt19937 rng(13);
  std::uniform_int_distribution<int> byte(-128, 127);
  std::vector<int8_t> table(256);
  for (int8_t &v : table)
    v = int8_t(byte(rng));
  std::vector<int8_t> in;
  for (int v = -128; v < 128; ++v) // every index, in order and shuffled
    in.push_back(int8_t(v));
  for (int i = 0; i < 1000; ++i)
    in.push_back(int8_t(byte(rng)));
  for (size_t n : {in.size(), size_t(31), size_t(33), size_t(64)}) {
    std::vector<int8_t> out(n, 0x55);
    ASSERT_TRUE(lookupInt8(in.data(), out.data(), n, table.data()));
    for (size_t i = 0; i < n; ++i)
      ASSERT_EQ(int(out[i]), int(table[size_t(int(in[i]) + 128)])) << i;
  }
}

} // namespace
