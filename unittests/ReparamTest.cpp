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

/// Reference NCHW convolution (batch 1, square stride, ONNX padding).
Image conv(const Image &in, const Kernel &k, int64_t group, int64_t stride,
           int64_t padH, int64_t padW) {
  Image out{k.outChannels,
            (in.h + 2 * padH - k.kh) / stride + 1,
            (in.w + 2 * padW - k.kw) / stride + 1,
            {}};
  out.data.assign(out.c * out.h * out.w, 0.0);
  const int64_t outPerGroup = k.outChannels / group;
  for (int64_t o = 0; o < out.c; ++o)
    for (int64_t y = 0; y < out.h; ++y)
      for (int64_t x = 0; x < out.w; ++x) {
        double acc = k.bias[o];
        for (int64_t i = 0; i < k.inPerGroup; ++i)
          for (int64_t ky = 0; ky < k.kh; ++ky)
            for (int64_t kx = 0; kx < k.kw; ++kx)
              acc += k.at(o, i, ky, kx) *
                     in.at((o / outPerGroup) * k.inPerGroup + i,
                           y * stride + ky - padH, x * stride + kx - padW);
        out.data[(o * out.h + y) * out.w + x] = acc;
      }
  return out;
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
};

TEST_F(ReparamTest, FoldBatchNormMatchesConvThenBatchNorm) {
  for (int64_t group : {1, 2, 6}) {
    Image x = randomImage(6, 7, 7);
    Kernel k = randomKernel(6, 6 / group, 3, 3);
    BatchNorm bn = randomBatchNorm(6);
    expectNear(conv(x, foldBatchNorm(k, bn), group, 1, 1, 1),
               applyBatchNorm(conv(x, k, group, 1, 1, 1), bn));
  }
}

TEST_F(ReparamTest, IdentityKernelIsIdentity) {
  for (int64_t group : {1, 2, 4}) {
    for (int64_t size : {1, 3, 5}) {
      Image x = randomImage(4, 6, 5);
      Kernel id = identityKernel(4, group, size, size);
      EXPECT_EQ(id.inPerGroup, 4 / group);
      expectNear(conv(x, id, group, 1, size / 2, size / 2), x);
    }
  }
}

TEST_F(ReparamTest, IdentityBranchFoldsToBatchNorm) {
  Image x = randomImage(3, 5, 5);
  BatchNorm bn = randomBatchNorm(3);
  expectNear(conv(x, foldBatchNorm(identityKernel(3, 3, 3, 3), bn), 3, 1, 1, 1),
             applyBatchNorm(x, bn));
}

TEST_F(ReparamTest, PaddedKernelMatchesSmallKernelWithCentredPadding) {
  for (int64_t stride : {1, 2}) {
    Image x = randomImage(4, 9, 8);
    Kernel small = randomKernel(2, 4, 1, 3);
    // 1x3 with pads (0, 1) inside a 5x5 block with pads (2, 2).
    expectNear(conv(x, padKernel(small, 5, 5), 1, stride, 2, 2),
               conv(x, small, 1, stride, 0, 1));
  }
}

TEST_F(ReparamTest, SumOfKernelsIsSumOfConvs) {
  Image x = randomImage(4, 6, 6);
  Kernel a = randomKernel(4, 2, 3, 3), b = randomKernel(4, 2, 3, 3);
  Kernel sum = a;
  accumulate(sum, b);
  Image ya = conv(x, a, 2, 2, 1, 1), yb = conv(x, b, 2, 2, 1, 1);
  for (size_t i = 0; i < ya.data.size(); ++i)
    ya.data[i] += yb.data[i];
  expectNear(conv(x, sum, 2, 2, 1, 1), ya);
}

TEST_F(ReparamTest, WholeBlockInDoubleThenOneRounding) {
  // A RepVGG-style block: 3x3 conv-BN + 1x1 conv-BN + BN identity.
  Image x = randomImage(4, 6, 6);
  Kernel k3 = randomKernel(4, 4, 3, 3), k1 = randomKernel(4, 4, 1, 1);
  for (double &v : k3.bias)
    v = 0;
  for (double &v : k1.bias)
    v = 0;
  BatchNorm bn3 = randomBatchNorm(4), bn1 = randomBatchNorm(4),
            bnId = randomBatchNorm(4);
  Kernel merged = foldBatchNorm(k3, bn3);
  accumulate(merged, padKernel(foldBatchNorm(k1, bn1), 3, 3));
  accumulate(merged, foldBatchNorm(identityKernel(4, 1, 3, 3), bnId));

  Image expected = applyBatchNorm(conv(x, k3, 1, 1, 1, 1), bn3);
  Image b1 = applyBatchNorm(conv(x, k1, 1, 1, 0, 0), bn1);
  Image bi = applyBatchNorm(x, bnId);
  for (size_t i = 0; i < expected.data.size(); ++i)
    expected.data[i] += b1.data[i] + bi.data[i];
  expectNear(conv(x, merged, 1, 1, 1, 1), expected);

  // Rounding once to f32 keeps every weight within half an ulp.
  std::vector<float> rounded = toF32(merged.weight);
  for (size_t i = 0; i < rounded.size(); ++i)
    EXPECT_LE(std::fabs(rounded[i] - merged.weight[i]),
              std::fabs(merged.weight[i]) * 0x1.0p-24);
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
