//===- Kernels.cpp - choosing a convolution kernel for the CPU ------------===//
//
// Which ISA class this CPU has and which shapes our kernels take (and how a
// model's operator reads as a kernel shape); the
// kernels themselves are KernelsImpl.h, compiled once per ISA
// (KernelsAvx512.cpp, KernelsAvx2.cpp). This file is compiled for the
// baseline CPU: nothing here may use more than it.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"
#include "Model.h"

#include <cstdlib>
#include <cstring>

using namespace mobileone::runtime;
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

std::unique_ptr<KernelInt8>
mobileone::runtime::kernels::createConvInt8(const QuantizedConv &conv,
                                            Isa isa) {
  return runs(isa) ? detail::createConvInt8X86(
                         conv, isa == Isa::Avx512 && hasVnni())
                   : nullptr;
}

bool mobileone::runtime::kernels::hasVnni() {
  static const bool vnni = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vnni") &&
           __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl");
  }();
  return vnni;
}

bool mobileone::runtime::kernels::convShapeOf(const Model &model, const Op &op,
                                              ConvShape &shape) {
  if (op.inputs.size() < 2)
    return false;
  const Tensor &x = model.tensors[op.inputs[0]];
  const Tensor &w = model.tensors[op.inputs[1]];
  const Tensor &y = model.tensors[op.output];
  if (y.shape.empty() ||
      (op.inputs.size() > 2 &&
       model.tensors[op.inputs[2]].elements != y.shape.back()))
    return false;
  if (op.kind == OpKind::FullyConnected) {
    if (w.shape.size() != 2 || w.shape[1] == 0 || x.elements % w.shape[1] != 0)
      return false;
    shape.batch = int(x.elements / w.shape[1]);
    shape.inH = shape.inW = shape.outH = shape.outW = 1;
    shape.inC = int(w.shape[1]);
    shape.outC = int(w.shape[0]);
    return true;
  }
  if ((op.kind != OpKind::Conv && op.kind != OpKind::DepthwiseConv) ||
      x.shape.size() != 4 || y.shape.size() != 4 || w.shape.size() != 4 ||
      x.shape[0] != y.shape[0])
    return false;
  shape.batch = int(x.shape[0]);
  shape.inH = int(x.shape[1]);
  shape.inW = int(x.shape[2]);
  shape.inC = int(x.shape[3]);
  shape.outH = int(y.shape[1]);
  shape.outW = int(y.shape[2]);
  shape.outC = int(y.shape[3]);
  shape.kernelH = op.kernelH;
  shape.kernelW = op.kernelW;
  shape.strideH = op.strideH;
  shape.strideW = op.strideW;
  shape.dilationH = op.dilationH;
  shape.dilationW = op.dilationW;
  shape.padTop = op.padTop;
  shape.padLeft = op.padLeft;
  if (op.kind == OpKind::Conv)
    return w.shape == std::vector<int64_t>{y.shape[3], op.kernelH, op.kernelW,
                                           x.shape[3]};
  return op.depthMultiplier >= 1 &&
         y.shape[3] == x.shape[3] * op.depthMultiplier &&
         w.shape == std::vector<int64_t>{1, op.kernelH, op.kernelW, y.shape[3]};
}

std::unique_ptr<KernelInt8>
mobileone::runtime::kernels::createConvInt8(const Model &model, const Op &op,
                                            Isa isa) {
  if (!op.quantized || op.inputs.size() < 2 ||
      (op.kind == OpKind::DepthwiseConv && op.depthMultiplier != 1) ||
      (op.kind == OpKind::Conv && op.groups != 1))
    return nullptr;
  const Tensor &x = model.tensors[op.inputs[0]];
  const Tensor &w = model.tensors[op.inputs[1]];
  const Tensor &y = model.tensors[op.output];
  const Tensor *b =
      op.inputs.size() > 2 ? &model.tensors[op.inputs[2]] : nullptr;
  QuantizedConv conv;
  if (!x.isInt8() || !y.isInt8() || !w.isInt8() || !w.data ||
      (b && (!b->data || !b->isInt32())) ||
      !convShapeOf(model, op, conv.shape) || op.quant.multiplier.empty() ||
      op.quant.multiplier.size() != op.quant.shift.size())
    return nullptr;
  conv.depthwise = op.kind == OpKind::DepthwiseConv;
  conv.weights = w.i8();
  conv.bias = b ? b->i32() : nullptr;
  conv.inputZero = op.quant.inputZero[0];
  conv.outputZero = op.quant.outputZero;
  conv.activationMin = op.quant.activationMin;
  conv.activationMax = op.quant.activationMax;
  conv.multiplier = op.quant.multiplier.data();
  conv.shift = op.quant.shift.data();
  conv.channels = op.quant.multiplier.size();
  return createConvInt8(conv, isa);
}

bool mobileone::runtime::kernels::quantizeFloats(const float *in, int8_t *out,
                                                 size_t n, float scale,
                                                 int32_t zero) {
  if (!runs(Isa::Avx2))
    return false;
  detail::quantizeFloatsAvx2(in, out, n, scale, zero);
  return true;
}

bool mobileone::runtime::kernels::mulInt8(const MulInt8 &mul) {
  if (!runs(Isa::Avx2) || mul.shift < -31 || mul.shift > 30)
    return false;
  detail::mulInt8Avx2(mul);
  return true;
}

bool mobileone::runtime::kernels::addInt8(const AddInt8 &add, Isa isa) {
  for (int shift : {add.shiftA, add.shiftB, add.shift})
    if (shift < -31 || shift > 30)
      return false;
  if (!runs(isa))
    return false;
  if (isa == Isa::Avx512 && hasVnni())
    detail::addInt8Vnni(add);
  else
    detail::addInt8Avx2(add);
  return true;
}

bool mobileone::runtime::kernels::lookupInt8(const int8_t *in, int8_t *out,
                                             size_t n, const int8_t *table) {
  if (!runs(Isa::Avx2))
    return false;
  detail::lookupInt8Avx2(in, out, n, table);
  return true;
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
