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
