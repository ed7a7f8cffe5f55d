//===- ReparamTest.cpp - unit tests of the weight math --------------------===//
//
// Each identity of the re-parameterisation is checked the way it is used:
// convolving with the derived kernel must equal the training-time
// computation, on seeded random data, with a small reference convolution.
//
//===----------------------------------------------------------------------===//

#include "mobileone/Math/Reparam.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace mlir::mobileone::math;

namespace {

struct Image {
  int64_t c, h, w;
  std::vector<double> data;
  double at(int64_t ch, int64_t y, int64_t x) const {
    if (y < 0 || y >= h || x < 0 || x >= w)
      return 0.0;
    return data[(ch * h + y) * w + x];
  }
};

/// Reference NCHW convolution (batch 1) with full ONNX geometry.
Image conv(const Image &in, const Kernel &k, const ConvGeometry &g) {
  Image out{k.outChannels, g.outSize[0], g.outSize[1], {}};
  out.data.assign(out.c * out.h * out.w, 0.0);
  const int64_t outPerGroup = k.outChannels / g.group;
  for (int64_t o = 0; o < out.c; ++o)
    for (int64_t y = 0; y < out.h; ++y)
      for (int64_t x = 0; x < out.w; ++x) {
        double acc = k.bias[o];
        for (int64_t i = 0; i < k.inPerGroup; ++i)
          for (int64_t ky = 0; ky < k.kh; ++ky)
            for (int64_t kx = 0; kx < k.kw; ++kx)
              acc += k.at(o, i, ky, kx) *
                     in.at((o / outPerGroup) * k.inPerGroup + i,
                           y * g.strides[0] + ky * g.dilations[0] - g.pads[0],
                           x * g.strides[1] + kx * g.dilations[1] - g.pads[1]);
        out.data[(o * out.h + y) * out.w + x] = acc;
      }
  return out;
}

/// The geometry of a conv on an `in` x `in` image.
ConvGeometry geom(int64_t ic, int64_t oc, int64_t group, int64_t kh,
                  int64_t kw, int64_t in, int64_t stride,
                  std::vector<int64_t> pads, int64_t dilation = 1) {
  ConvGeometry g;
  g.inChannels = ic;
  g.outChannels = oc;
  g.group = group;
  g.kernel[0] = kh;
  g.kernel[1] = kw;
  for (int a = 0; a < 2; ++a) {
    g.strides[a] = stride;
    g.dilations[a] = dilation;
    g.inSize[a] = in;
  }
  for (int i = 0; i < 4; ++i)
    g.pads[i] = pads[i];
  g.outSize[0] = (in + pads[0] + pads[2] - dilation * (kh - 1) - 1) / stride + 1;
  g.outSize[1] = (in + pads[1] + pads[3] - dilation * (kw - 1) - 1) / stride + 1;
  return g;
}

Image run(const Image &x, const LinearMap &m) {
  return conv(x, m.kernel, m.geometry);
}

Image add(Image a, const Image &b, double sign = 1.0) {
  for (size_t i = 0; i < a.data.size(); ++i)
    a.data[i] += sign * b.data[i];
  return a;
}

Image applyBatchNorm(Image x, const BatchNorm &bn) {
  for (int64_t c = 0; c < x.c; ++c) {
    double s = bn.scale[c] / std::sqrt(bn.variance[c] + bn.epsilon);
    for (int64_t j = 0; j < x.h * x.w; ++j) {
      double &v = x.data[c * x.h * x.w + j];
      v = (v - bn.mean[c]) * s + bn.bias[c];
    }
  }
  return x;
}

class ReparamTest : public ::testing::Test {
protected:
  std::mt19937_64 rng{42};
  double uniform(double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng);
  }
  Image randomImage(int64_t c, int64_t h, int64_t w) {
    Image im{c, h, w, std::vector<double>(c * h * w)};
    for (double &v : im.data)
      v = uniform(-1, 1);
    return im;
  }
  Kernel randomKernel(int64_t oc, int64_t icg, int64_t kh, int64_t kw) {
    Kernel k(oc, icg, kh, kw);
    for (double &v : k.weight)
      v = uniform(-1, 1);
    for (double &v : k.bias)
      v = uniform(-0.5, 0.5);
    return k;
  }
  BatchNorm randomBatchNorm(int64_t c) {
    BatchNorm bn;
    for (int64_t i = 0; i < c; ++i) {
      bn.scale.push_back(uniform(0.5, 2));
      bn.bias.push_back(uniform(-1, 1));
      bn.mean.push_back(uniform(-1, 1));
      bn.variance.push_back(uniform(0.1, 3));
    }
    bn.epsilon = 1e-3;
    return bn;
  }
  static void expectNear(const Image &a, const Image &b, double tol = 1e-12) {
    ASSERT_EQ(a.data.size(), b.data.size());
    for (size_t i = 0; i < a.data.size(); ++i)
      ASSERT_NEAR(a.data[i], b.data[i], tol) << "at element " << i;
  }

  LinearMap randomConv(const ConvGeometry &g) {
    return convMap(g, randomKernel(g.outChannels, g.inChannels / g.group,
                                   g.kernel[0], g.kernel[1]),
                   true);
  }
  LinearMap bnMap(const BatchNorm &bn, int64_t c, int64_t size) {
    std::vector<double> scale, shift;
    batchNormAffine(bn, scale, shift);
    return scaleAndShift(identityMap(c, size, size, true), &scale, &shift);
  }
  LinearMap ok(std::optional<LinearMap> m, const std::string &why) {
    EXPECT_TRUE(m.has_value()) << why;
    return m ? *m : LinearMap();
  }
};

TEST_F(ReparamTest, BatchNormAfterConvFolds) {
  for (int64_t group : {1, 2, 6}) {
    Image x = randomImage(6, 7, 7);
    ConvGeometry g = geom(6, 6, group, 3, 3, 7, 1, {1, 1, 1, 1});
    LinearMap c = randomConv(g);
    BatchNorm bn = randomBatchNorm(6);
    std::string why;
    LinearMap folded = ok(compose(c, bnMap(bn, 6, 7), why), why);
    expectNear(run(x, folded), applyBatchNorm(run(x, c), bn));
  }
}

TEST_F(ReparamTest, IdentityFitsIntoAnyOddKernelAndGroup) {
  for (int64_t group : {1, 2, 4})
    for (int64_t size : {1, 3, 5}) {
      Image x = randomImage(4, 6, 6);
      int64_t p = size / 2;
      std::string why;
      LinearMap id = ok(fitInto(identityMap(4, 6, 6, true),
                                geom(4, 4, group, size, size, 6, 1,
                                     {p, p, p, p}),
                                why),
                        why);
      EXPECT_EQ(id.kernel.inPerGroup, 4 / group);
      expectNear(run(x, id), x);
    }
}

TEST_F(ReparamTest, AcnetKernelsSumIntoTheSquareOne) {
  // BN(conv3x3) + BN(conv1x3) + BN(conv3x1), stride 1 and 2.
  for (int64_t stride : {1, 2}) {
    Image x = randomImage(4, 9, 9);
    LinearMap a = randomConv(geom(4, 6, 1, 3, 3, 9, stride, {1, 1, 1, 1}));
    LinearMap b = randomConv(geom(4, 6, 1, 1, 3, 9, stride, {0, 1, 0, 1}));
    LinearMap c = randomConv(geom(4, 6, 1, 3, 1, 9, stride, {1, 0, 1, 0}));
    std::string why;
    LinearMap s = ok(sum(ok(sum(a, b, 1.0, why), why), c, 1.0, why), why);
    EXPECT_EQ(s.geometry.kernel[0], 3);
    EXPECT_EQ(s.geometry.kernel[1], 3);
    expectNear(run(x, s), add(add(run(x, a), run(x, b)), run(x, c)));
  }
}

TEST_F(ReparamTest, DifferenceAndScaleOfDepthwiseBranches) {
  // FastViT RepMixer: x + gamma * (dw3x3(x) - bn(x)).
  Image x = randomImage(4, 6, 6);
  LinearMap dw = randomConv(geom(4, 4, 4, 3, 3, 6, 1, {1, 1, 1, 1}));
  BatchNorm bn = randomBatchNorm(4);
  std::vector<double> gamma = {0.5, -1.5, 2.0, 0.25};
  std::string why;
  LinearMap diff = ok(sum(dw, bnMap(bn, 4, 6), -1.0, why), why);
  LinearMap mixed = ok(sum(identityMap(4, 6, 6, true),
                           scaleAndShift(diff, &gamma, nullptr), 1.0, why),
                       why);
  EXPECT_EQ(mixed.geometry.group, 4);
  Image expected = add(run(x, dw), applyBatchNorm(x, bn), -1.0);
  for (int64_t c = 0; c < 4; ++c)
    for (int64_t j = 0; j < 36; ++j)
      expected.data[c * 36 + j] =
          x.data[c * 36 + j] + gamma[c] * expected.data[c * 36 + j];
  expectNear(run(x, mixed), expected);
}

TEST_F(ReparamTest, SequenceOfPointwiseThenSpatialConvs) {
  // DBB: 1x1 (with bias) -> 3x3 without padding, strided and dilated.
  for (int64_t stride : {1, 2})
    for (int64_t dilation : {1, 2}) {
      Image x = randomImage(4, 9, 9);
      LinearMap first = randomConv(geom(4, 3, 1, 1, 1, 9, 1, {0, 0, 0, 0}));
      LinearMap second = randomConv(
          geom(3, 5, 1, 3, 3, 9, stride, {0, 0, 0, 0}, dilation));
      std::string why;
      LinearMap seq = ok(compose(first, second, why), why);
      expectNear(run(x, seq), run(run(x, first), second), 1e-11);
    }
}

TEST_F(ReparamTest, SequenceOfSpatialConvsWithoutPadding) {
  // Grouped 1x1 -> depthwise 3x3 stride 2: a grouped 3x3 (group gcd 2).
  Image x = randomImage(4, 11, 11);
  LinearMap first = randomConv(geom(4, 4, 2, 1, 1, 11, 1, {0, 0, 0, 0}));
  LinearMap second = randomConv(geom(4, 4, 4, 3, 3, 11, 2, {0, 0, 0, 0}));
  std::string why;
  LinearMap seq = ok(compose(first, second, why), why);
  EXPECT_EQ(seq.geometry.group, 2);
  expectNear(run(x, seq), run(run(x, first), second), 1e-11);

  // 3x3 stride 2, then 3x3 without padding: one 7x7 conv of stride 2,
  // exact, but costing more than the two in sequence.
  LinearMap a = randomConv(geom(4, 8, 1, 3, 3, 11, 2, {1, 1, 1, 1}));
  LinearMap b = randomConv(geom(8, 8, 1, 3, 3, 6, 1, {0, 0, 0, 0}));
  LinearMap ab = ok(compose(a, b, why), why);
  EXPECT_EQ(ab.geometry.kernel[0], 7);
  EXPECT_GT(ab.geometry.macs(), ab.sequenceMacs);
  expectNear(run(x, ab), run(run(x, a), b), 1e-11);
  // A depthwise 3x3 then a 1x1: also more.
  LinearMap dw = randomConv(geom(4, 4, 4, 3, 3, 11, 1, {1, 1, 1, 1}));
  LinearMap pw = randomConv(geom(4, 8, 1, 1, 1, 11, 1, {0, 0, 0, 0}));
  std::optional<LinearMap> dwpw = compose(dw, pw, why);
  ASSERT_TRUE(dwpw.has_value()) << why;
  EXPECT_GT(dwpw->geometry.macs(), dwpw->sequenceMacs);
}

TEST_F(ReparamTest, PaddedSequenceNeedsAZeroBorder) {
  Image x = randomImage(4, 6, 6);
  LinearMap first = randomConv(geom(4, 4, 1, 1, 1, 6, 1, {0, 0, 0, 0}));
  LinearMap second = randomConv(geom(4, 4, 1, 3, 3, 6, 1, {1, 1, 1, 1}));
  std::string why;
  EXPECT_FALSE(compose(first, second, why).has_value());
  EXPECT_NE(why.find("non-zero bias"), std::string::npos) << why;

  // DBB's pad-with-bias: (first - b) padded with zeros, + b, then the
  // unpadded conv: exact, the bias cancelling to within f32 rounding.
  std::vector<double> minusBias(4);
  for (int c = 0; c < 4; ++c)
    minusBias[c] = -static_cast<float>(first.kernel.bias[c]);
  std::vector<double> plusBias = minusBias;
  for (double &v : plusBias)
    v = -v;
  int64_t pads[4] = {1, 1, 1, 1};
  LinearMap centred = scaleAndShift(first, nullptr, &minusBias);
  LinearMap padded = ok(zeroPad(centred, pads, why), why);
  LinearMap shifted = scaleAndShift(padded, nullptr, &plusBias);
  LinearMap inner = randomConv(geom(4, 4, 1, 3, 3, 8, 1, {0, 0, 0, 0}));
  LinearMap seq = ok(compose(shifted, inner, why), why);
  EXPECT_EQ(seq.geometry.pads[0], 1);
  // Reference: pad the 1x1's output with its bias.
  Image y = run(x, first), border{4, 8, 8, std::vector<double>(4 * 64)};
  for (int64_t c = 0; c < 4; ++c)
    for (int64_t i = 0; i < 8; ++i)
      for (int64_t j = 0; j < 8; ++j)
        border.data[(c * 8 + i) * 8 + j] =
            i == 0 || j == 0 || i == 7 || j == 7 ? plusBias[c]
                                                 : y.at(c, i - 1, j - 1);
  expectNear(run(x, seq), run(border, inner), 1e-6);

  // A spatial map before padding is refused.
  LinearMap spatial = randomConv(geom(4, 4, 1, 3, 3, 6, 1, {1, 1, 1, 1}));
  EXPECT_FALSE(zeroPad(spatial, pads, why).has_value());
}

TEST_F(ReparamTest, AveragePoolIsADepthwiseConv) {
  // DBB: 1x1 -> 3x3 average pool of stride 2 (count_include_pad).
  Image x = randomImage(3, 8, 8);
  LinearMap first = randomConv(geom(3, 3, 1, 1, 1, 8, 1, {0, 0, 0, 0}));
  for (double &b : first.kernel.bias)
    b = 0;
  first.biasMagnitude.assign(3, 0.0);
  ConvGeometry pg = geom(3, 3, 3, 3, 3, 8, 2, {1, 1, 1, 1});
  Kernel avg(3, 1, 3, 3);
  std::fill(avg.weight.begin(), avg.weight.end(), 1.0 / 9);
  LinearMap pool = convMap(pg, avg, true);
  std::string why;
  LinearMap seq = ok(compose(first, pool, why), why);
  expectNear(run(x, seq), run(run(x, first), pool), 1e-12);
}

TEST_F(ReparamTest, FitIntoRejectsWindowsOutsideTheBlock) {
  LinearMap c = randomConv(geom(4, 4, 1, 3, 3, 6, 1, {1, 1, 1, 1}));
  std::string why;
  EXPECT_FALSE(fitInto(c, geom(4, 4, 1, 1, 1, 6, 1, {0, 0, 0, 0}), why));
  EXPECT_NE(why.find("does not fit"), std::string::npos) << why;
  EXPECT_FALSE(fitInto(c, geom(4, 4, 2, 3, 3, 6, 1, {1, 1, 1, 1}), why));
  EXPECT_NE(why.find("group"), std::string::npos) << why;
}

TEST_F(ReparamTest, WholeBlockInDoubleThenOneRounding) {
  // A RepVGG-style block: 3x3 conv-BN + 1x1 conv-BN + BN identity.
  Image x = randomImage(4, 6, 6);
  ConvGeometry g3 = geom(4, 4, 1, 3, 3, 6, 1, {1, 1, 1, 1});
  ConvGeometry g1 = geom(4, 4, 1, 1, 1, 6, 1, {0, 0, 0, 0});
  LinearMap k3 = randomConv(g3), k1 = randomConv(g1);
  BatchNorm bn3 = randomBatchNorm(4), bn1 = randomBatchNorm(4),
            bnId = randomBatchNorm(4);
  std::string why;
  LinearMap merged = ok(compose(k3, bnMap(bn3, 4, 6), why), why);
  merged = ok(sum(merged, ok(compose(k1, bnMap(bn1, 4, 6), why), why), 1.0,
                  why),
              why);
  merged = ok(sum(merged, bnMap(bnId, 4, 6), 1.0, why), why);
  merged = ok(fitInto(merged, g3, why), why);

  Image expected = add(add(applyBatchNorm(run(x, k3), bn3),
                           applyBatchNorm(run(x, k1), bn1)),
                       applyBatchNorm(x, bnId));
  expectNear(run(x, merged), expected);

  // Rounding once to f32 keeps every weight within half an ulp.
  std::vector<float> rounded = toF32(merged.kernel.weight);
  for (size_t i = 0; i < rounded.size(); ++i)
    EXPECT_LE(std::fabs(rounded[i] - merged.kernel.weight[i]),
              std::fabs(merged.kernel.weight[i]) * 0x1.0p-24);
}

TEST_F(ReparamTest, BatchNormAffineMatchesBatchNorm) {
  Image x = randomImage(5, 3, 4);
  BatchNorm bn = randomBatchNorm(5);
  std::vector<double> scale, shift;
  batchNormAffine(bn, scale, shift);
  Image y = x;
  for (int64_t c = 0; c < 5; ++c)
    for (int64_t j = 0; j < 12; ++j)
      y.data[c * 12 + j] = x.data[c * 12 + j] * scale[c] + shift[c];
  expectNear(y, applyBatchNorm(x, bn));
}

TEST_F(ReparamTest, KernelFromF32KeepsLayoutAndOptionalBias) {
  std::vector<float> w(2 * 3 * 1 * 2), b = {0.5f, -0.25f};
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = static_cast<float>(i) * 0.125f;
  Kernel k = kernelFromF32(2, 3, 1, 2, w.data(), b.data());
  EXPECT_EQ(k.at(1, 2, 0, 1), w[((1 * 3 + 2) * 1 + 0) * 2 + 1]);
  EXPECT_EQ(k.bias[1], -0.25);
  Kernel noBias = kernelFromF32(2, 3, 1, 2, w.data(), nullptr);
  EXPECT_EQ(noBias.bias, std::vector<double>(2, 0.0));
}

} // namespace
