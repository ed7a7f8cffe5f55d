//===- Kernels.cpp - choosing a convolution kernel for the CPU ------------===//
//
// Which ISA class this CPU has and which shapes our kernels take; the
// kernels themselves are KernelsImpl.h, compiled once per ISA
// (KernelsAvx512.cpp, KernelsAvx2.cpp). This file is compiled for the
// baseline CPU: nothing here may use more than it.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include <cstdlib>
#include <cstring>

using namespace mobileone::runtime::kernels;

Isa mobileone::runtime::kernels::detectIsa() {
  static const Isa isa = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
      return Isa::Avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
      return Isa::Avx2;
    return Isa::None;
  }();
  return isa;
}

Isa mobileone::runtime::kernels::chooseIsa(bool allowAvx512) {
  Isa isa = detectIsa();
  return !allowAvx512 && isa == Isa::Avx512 ? Isa::Avx2 : isa;
}

const char *mobileone::runtime::kernels::isaName(Isa isa) {
  switch (isa) {
  case Isa::Avx512:
    return "avx512";
  case Isa::Avx2:
    return "avx2";
  case Isa::None:
    break;
  }
  return "none";
}

/// Whether `isa` can run here.
static bool runs(Isa isa) {
  return isa != Isa::None && int(isa) <= int(detectIsa());
}

/// The kernel of `kind` built for `isa` (which runs here).
static std::unique_ptr<Kernel> create(Isa isa, detail::KernelKind kind,
                                      const ConvShape &shape,
                                      const float *weights, const float *bias) {
  return isa == Isa::Avx512 ? detail::createAvx512(kind, shape, weights, bias)
                            : detail::createAvx2(kind, shape, weights, bias);
}

/// A stem: few taps x channels (3x3x3 = 27), or fewer than 16 channels
/// under a kernel of at most 64 taps (ResNet's 7x7x3), computed directly.
static bool isDirect(const ConvShape &s) {
  return (s.kernelH * s.kernelW * s.inC <= 64 ||
          (s.inC < 16 && s.kernelH * s.kernelW <= 64)) &&
         !(s.kernelH == 1 && s.kernelW == 1);
}

/// 1x1, stride 1, no padding: a GEMM over the input's rows.
static bool isPointwise(const ConvShape &s) {
  return s.kernelH == 1 && s.kernelW == 1 && s.strideH == 1 && s.strideW == 1 &&
         s.padTop == 0 && s.padLeft == 0 && s.outH == s.inH && s.outW == s.inW;
}

/// Any other kernel of at most 64 taps: a GEMM summing over its taps.
static bool isImplicitGemm(const ConvShape &s) {
  return s.kernelH * s.kernelW <= 64 && s.kernelH >= 1 && s.kernelW >= 1 &&
         s.strideH >= 1 && s.strideW >= 1 && s.dilationH >= 1 &&
         s.dilationW >= 1;
}

bool mobileone::runtime::kernels::convBeatsXnnpack(const ConvShape &s) {
  return isDirect(s) || isPointwise(s) ||
         (isImplicitGemm(s) && s.inC >= 16);
}

std::unique_ptr<Kernel> mobileone::runtime::kernels::createConv(
    const ConvShape &shape, const float *weights, const float *bias, Isa isa) {
  if (!runs(isa) || shape.batch <= 0 || shape.outH <= 0 || shape.outW <= 0 ||
      shape.inC <= 0 || shape.outC <= 0)
    return nullptr;
  if (isDirect(shape))
    return create(isa, detail::KernelKind::Direct, shape, weights, bias);
  if (isPointwise(shape) || isImplicitGemm(shape))
    return create(isa, detail::KernelKind::Pointwise, shape, weights, bias);
  return nullptr;
}

std::unique_ptr<Kernel> mobileone::runtime::kernels::createDepthwiseKxK(
    const ConvShape &s, const float *weights, const float *bias, Isa isa) {
  if (!runs(isa) || s.inC <= 0 || s.outC % s.inC != 0 || s.dilationH != 1 ||
      s.dilationW != 1 || s.kernelH < 1 || s.kernelW < 1 || s.strideH < 1 ||
      s.strideW < 1 || s.outH <= 0 || s.outW <= 0)
    return nullptr;
  return create(isa, detail::KernelKind::DepthwiseKxK, s, weights, bias);
}

std::unique_ptr<Kernel>
mobileone::runtime::kernels::createGelu(size_t elements, bool approximate,
                                        Isa isa) {
  if (!runs(isa) || elements == 0)
    return nullptr;
  return isa == Isa::Avx512 ? detail::createGeluAvx512(elements, approximate)
                            : detail::createGeluAvx2(elements, approximate);
}

bool mobileone::runtime::kernels::depthwiseKxKBeatsXnnpack(const ConvShape &s) {
  return s.kernelH * s.kernelW > 9 || s.outC != s.inC;
}

bool mobileone::runtime::kernels::depthwise3x3BeatsXnnpack(
    const ConvShape &s) {
  return s.strideW == 1 || s.outW >= 28;
}

std::unique_ptr<Kernel> mobileone::runtime::kernels::createDepthwiseConv(
    const ConvShape &shape, const float *weights, const float *bias, Isa isa) {
  if (!runs(isa) || shape.kernelH != 3 || shape.kernelW != 3 ||
      shape.strideH != shape.strideW || shape.strideH < 1 ||
      shape.strideH > 2 || shape.dilationH != 1 || shape.dilationW != 1 ||
      shape.outC != shape.inC)
    return nullptr;
  return create(isa, detail::KernelKind::Depthwise3x3, shape, weights, bias);
}
