//===- Reparam.cpp - re-parameterisation weight math ----------------------===//

#include "mobileone/Math/Reparam.h"

#include <cassert>
#include <cmath>

using namespace mlir::mobileone::math;

Kernel::Kernel(int64_t outChannels, int64_t inPerGroup, int64_t kh, int64_t kw)
    : outChannels(outChannels), inPerGroup(inPerGroup), kh(kh), kw(kw),
      weight(outChannels * inPerGroup * kh * kw, 0.0), bias(outChannels, 0.0) {}

Kernel mlir::mobileone::math::kernelFromF32(int64_t outChannels,
                                            int64_t inPerGroup, int64_t kh,
                                            int64_t kw, const float *weight,
                                            const float *bias) {
  Kernel k(outChannels, inPerGroup, kh, kw);
  for (size_t i = 0; i < k.weight.size(); ++i)
    k.weight[i] = weight[i];
  if (bias)
    for (int64_t o = 0; o < outChannels; ++o)
      k.bias[o] = bias[o];
  return k;
}

Kernel mlir::mobileone::math::foldBatchNorm(const Kernel &k,
                                            const BatchNorm &bn) {
  Kernel out = k;
  const int64_t perChannel = k.inPerGroup * k.kh * k.kw;
  for (int64_t o = 0; o < k.outChannels; ++o) {
    const double s = bn.scale[o] / std::sqrt(bn.variance[o] + bn.epsilon);
    for (int64_t j = 0; j < perChannel; ++j)
      out.weight[o * perChannel + j] = k.weight[o * perChannel + j] * s;
    out.bias[o] = bn.bias[o] + (k.bias[o] - bn.mean[o]) * s;
  }
  return out;
}

Kernel mlir::mobileone::math::identityKernel(int64_t channels, int64_t group,
                                             int64_t kh, int64_t kw) {
  assert(group > 0 && channels % group == 0 && "channels must split evenly");
  assert(kh % 2 == 1 && kw % 2 == 1 && "identity needs a kernel centre");
  const int64_t inPerGroup = channels / group;
  Kernel k(channels, inPerGroup, kh, kw);
  for (int64_t o = 0; o < channels; ++o)
    k.at(o, o % inPerGroup, kh / 2, kw / 2) = 1.0;
  return k;
}

Kernel mlir::mobileone::math::padKernel(const Kernel &k, int64_t kh,
                                        int64_t kw) {
  assert(kh >= k.kh && kw >= k.kw && (kh - k.kh) % 2 == 0 &&
         (kw - k.kw) % 2 == 0 && "padding must be symmetric");
  Kernel out(k.outChannels, k.inPerGroup, kh, kw);
  out.bias = k.bias;
  const int64_t dy = (kh - k.kh) / 2, dx = (kw - k.kw) / 2;
  for (int64_t o = 0; o < k.outChannels; ++o)
    for (int64_t i = 0; i < k.inPerGroup; ++i)
      for (int64_t y = 0; y < k.kh; ++y)
        for (int64_t x = 0; x < k.kw; ++x)
          out.at(o, i, y + dy, x + dx) = k.at(o, i, y, x);
  return out;
}

void mlir::mobileone::math::accumulate(Kernel &acc, const Kernel &other) {
  assert(acc.weight.size() == other.weight.size() &&
         acc.bias.size() == other.bias.size() && "shape mismatch");
  for (size_t i = 0; i < acc.weight.size(); ++i)
    acc.weight[i] += other.weight[i];
  for (size_t i = 0; i < acc.bias.size(); ++i)
    acc.bias[i] += other.bias[i];
}

std::vector<float>
mlir::mobileone::math::toF32(const std::vector<double> &values) {
  return std::vector<float>(values.begin(), values.end());
}

void mlir::mobileone::math::batchNormAffine(const BatchNorm &bn,
                                            std::vector<double> &scale,
                                            std::vector<double> &shift) {
  scale.resize(bn.scale.size());
  shift.resize(bn.scale.size());
  for (size_t c = 0; c < bn.scale.size(); ++c) {
    scale[c] = bn.scale[c] / std::sqrt(bn.variance[c] + bn.epsilon);
    shift[c] = bn.bias[c] - bn.mean[c] * scale[c];
  }
}
