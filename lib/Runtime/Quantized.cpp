//===- Quantized.cpp - int8 operators: checks and reference kernels -------===//
//
// Exact to TFLite's integer arithmetic where TFLite defines it
// (tensorflow/lite/kernels/internal/common.h and reference/integer_ops, with
// TFLITE_SINGLE_ROUNDING: the requantisation rounds the exact product of
// the accumulator and the Q31 multiplier once, half up; that is also
// XNNPACK's "rndnu" and what TensorFlow Lite's interpreter on npm computes:
// on MobileOne-S0 every int8 tensor of the first 10 layers is bit-equal to
// it, where gemmlowp's double rounding differs in 0.2% of the elements):
// convolutions, fully connected, ADD/SUB (inputs rescaled onto twice the
// larger input scale with 20 bits of headroom), MUL, pooling, QUANTIZE and
// DEQUANTIZE. MEAN sums (q - zero point) and requantises once (TFLite's
// MEAN kernels round the zero point's share separately: within one step). Functions of
// one input (LOGISTIC, GELU, HARD_SWISH, ...) are tables of the float
// function at the 256 input values, rounded once: within one output step of
// TFLite's fixed-point versions. Accumulators are int32 with two's-
// complement wrap-around, as TFLite's are on every machine it runs on.
//
//===----------------------------------------------------------------------===//

#include "Quantized.h"
#include "Kernels.h"
#include "Model.h"
#include "Registry.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

using namespace mobileone::runtime;

std::string mobileone::runtime::numberText(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", v);
  return text;
}

void mobileone::runtime::quantizeMultiplier(double real, int32_t &multiplier,
                                            int &shift) {
  shift = 0;
  if (!(real > 0.0) || !std::isfinite(real)) {
    multiplier = 0;
    return;
  }
  const double fraction = std::frexp(real, &shift); // in [0.5, 1)
  int64_t fixed = int64_t(std::round(fraction * double(int64_t(1) << 31)));
  if (fixed == (int64_t(1) << 31)) {
    fixed /= 2;
    ++shift;
  }
  if (shift < -31) { // too small to matter: TFLite's flush to zero
    shift = 0;
    fixed = 0;
  }
  if (shift > 30) { // TFLite's saturation
    shift = 30;
    fixed = (int64_t(1) << 31) - 1;
  }
  multiplier = int32_t(fixed);
}

namespace {

/// Two's-complement int32 wrap-around of a wider sum.
int32_t wrap(int64_t v) { return int32_t(uint32_t(uint64_t(v))); }

int8_t saturate(int32_t v, int32_t lo = -128, int32_t hi = 127) {
  return int8_t(std::min(std::max(v, lo), hi));
}

float dequantizeValue(int32_t q, float scale, int32_t zero) {
  return float(double(scale) * double(q - zero));
}

bool sameQuantization(const Tensor &a, const Tensor &b) {
  return a.quant.scale == b.quant.scale &&
         a.quant.zeroPoint == b.quant.zeroPoint;
}

/// The requantisation of `q` (zero points, output multiplier and shift,
/// clamp) as the int8 MUL kernel takes it; the operands are the caller's.
kernels::MulInt8 mulInt8Of(const QuantizedParams &q) {
  kernels::MulInt8 m;
  m.zeroA = q.inputZero[0];
  m.zeroB = q.inputZero[1];
  m.outputZero = q.outputZero;
  m.multiplier = q.multiplier[0];
  m.shift = q.shift[0];
  m.activationMin = q.activationMin;
  m.activationMax = q.activationMax;
  return m;
}

} // namespace

int8_t mobileone::runtime::quantizeToInt8(float v, float scale, int32_t zero) {
  if (std::isnan(v))
    return int8_t(zero);
  float q = std::round(v / scale) + float(zero);
  return int8_t(std::min(127.0f, std::max(-128.0f, q)));
}

int32_t mobileone::runtime::multiplyByQuantizedMultiplier(int32_t x,
                                                          int32_t multiplier,
                                                          int shift) {
  // One rounding of the exact product, half up: shift is in [-31, 30], so
  // the product and the rounding term fit 63 bits.
  const int total = 31 - shift;
  const int64_t round = int64_t(1) << (total - 1);
  return int32_t((int64_t(x) * multiplier + round) >> total);
}

bool mobileone::runtime::isQuantizedOp(const Model &model, const Op &op) {
  if (op.kind == OpKind::Quantize || op.kind == OpKind::Dequantize)
    return true;
  if (model.tensors[op.output].isInt8())
    return true;
  return std::any_of(op.inputs.begin(), op.inputs.end(),
                     [&](int t) { return model.tensors[t].isInt8(); });
}

/// One int8 operator being prepared (Registry.h's prepareInt8): its
/// tensors' quantisation checked, op.quant filled.
struct mobileone::runtime::Int8Preparer {
  const Model &model;
  Op &op;
  const Tensor &y;
  QuantizedParams &q;
  std::string &why;

  const Tensor &in(size_t i) const { return model.tensors[op.inputs[i]]; }
  bool fail(const std::string &msg) {
    why = msg;
    return false;
  }
  static bool perTensor(const Tensor &t) {
    return t.isInt8() && !t.quant.perAxis();
  }
  bool requireInt8(std::initializer_list<const Tensor *> ts) {
    for (const Tensor *t : ts)
      if (!perTensor(*t))
        return fail("tensor '" + t->name +
                    "' must be INT8 with one scale and zero point, as every "
                    "activation of an int8 " +
                    op.opName + " (float and int8 operands do not mix)");
    return true;
  }
  bool requireSame(const Tensor &a, const Tensor &b) {
    if (!sameQuantization(a, b))
      return fail("tensors '" + a.name + "' and '" + b.name +
                  "' must have the same scale and zero point (an int8 " +
                  op.opName + " does not rescale)");
    return true;
  }
  /// The output's zero point and the requantisation by `real`.
  void setOutput(double real) {
    q.outputZero = y.quant.zeroPoint[0];
    q.multiplier.resize(1);
    q.shift.resize(1);
    quantizeMultiplier(real, q.multiplier[0], q.shift[0]);
  }
  /// The fused activation's range in output integers.
  void setActivation() {
    const float s = y.quant.scale[0];
    const int32_t z = y.quant.zeroPoint[0];
    q.activationMin = -128;
    q.activationMax = 127;
    if (std::isfinite(op.outMin))
      q.activationMin =
          std::max<int32_t>(-128, quantizeToInt8(op.outMin, s, z));
    if (std::isfinite(op.outMax))
      q.activationMax = std::min<int32_t>(127, quantizeToInt8(op.outMax, s, z));
  }
};

bool mobileone::runtime::prepareQuantizedOp(const Model &model, Op &op,
                                            std::string &why) {
  op.quantized = true;
  const OpRegistration &r = registration(op.kind);
  if (!r.prepareInt8) {
    why = "INT8 " + op.opName + " is not supported; supported in int8: " +
          supportedOperators(/*int8=*/true);
    return false;
  }
  Int8Preparer p{model, op, model.tensors[op.output], op.quant, why};
  return r.prepareInt8(p);
}

bool int8::prepareQuantize(Int8Preparer &p) {
  const Tensor &x = p.in(0), &y = p.y;
  if (x.data || !p.requireInt8({&y}))
    return x.data ? p.fail("expected an activation input") : false;
  p.q.outputZero = y.quant.zeroPoint[0];
  if (x.isFloat32()) {
    p.q.scale = y.quant.scale[0];
    return true;
  }
  if (!p.requireInt8({&x}))
    return false;
  p.q.inputZero[0] = x.quant.zeroPoint[0];
  p.setOutput(double(x.quant.scale[0]) / double(y.quant.scale[0]));
  return true;
}

bool int8::prepareDequantize(Int8Preparer &p) {
  const Tensor &x = p.in(0);
  if (x.data || !p.perTensor(x) || !p.y.isFloat32())
    return p.fail("expected an INT8 activation with one scale and zero "
                  "point, and a FLOAT32 output");
  p.q.scale = x.quant.scale[0];
  p.q.inputZero[0] = x.quant.zeroPoint[0];
  return true;
}

bool int8::prepareConv(Int8Preparer &p) {
  // CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED.
  const Op &op = p.op;
  QuantizedParams &q = p.q;
  const Tensor &x = p.in(0), &w = p.in(1), &y = p.y;
  if (!p.requireInt8({&x, &y}))
    return false;
  const bool fc = op.kind == OpKind::FullyConnected;
  const int axis = op.kind == OpKind::DepthwiseConv ? 3 : 0;
  if (!w.isInt8() || !w.data)
    return p.fail("expected a constant INT8 filter '" + w.name + "'");
  if (w.quant.perAxis() && w.quant.axis != axis)
    return p.fail("filter '" + w.name + "' is quantised along dimension " +
                  std::to_string(w.quant.axis) + "; expected " +
                  std::to_string(axis) + " (the output channels)");
  for (int32_t z : w.quant.zeroPoint)
    if (z != 0)
      return p.fail("filter '" + w.name +
                    "' has a non-zero zero point; int8 weights are "
                    "symmetric");
  q.inputZero[0] = x.quant.zeroPoint[0];
  q.outputZero = y.quant.zeroPoint[0];
  const size_t scales = w.quant.scale.size();
  q.multiplier.resize(scales);
  q.shift.resize(scales);
  for (size_t c = 0; c < scales; ++c) {
    double product = double(x.quant.scale[0]) * double(w.quant.scale[c]);
    quantizeMultiplier(product / double(y.quant.scale[0]), q.multiplier[c],
                       q.shift[c]);
  }
  if (op.inputs.size() > 2) {
    const Tensor &b = p.in(2);
    if (!b.isInt32() || !b.data)
      return p.fail("expected a constant INT32 bias '" + b.name + "'");
    if (b.quant.scale.size() != scales && !b.quant.scale.empty())
      return p.fail("bias '" + b.name + "' has " +
                    std::to_string(b.quant.scale.size()) +
                    " scales; the filter has " + std::to_string(scales));
    // TFLite's check: bias scale = input scale x filter scale.
    for (size_t c = 0; c < b.quant.scale.size(); ++c) {
      double product = double(x.quant.scale[0]) * double(w.quant.scale[c]);
      double bias = b.quant.scale[c];
      if (std::abs(product - bias) > 1e-6 * std::min(product, bias))
        return p.fail("bias '" + b.name + "' has scale " + numberText(bias) +
                      " at channel " + std::to_string(c) +
                      "; expected the input scale x filter scale = " +
                      numberText(product));
    }
  }
  // Every multiply-add fits an int32 accumulator: 255 x 128 per term.
  const int64_t depth = fc ? w.shape[1]
                           : w.shape[1] * w.shape[2] *
                                 (axis == 3 ? 1 : w.shape[3]);
  if (depth > 65536)
    return p.fail("a reduction over " + std::to_string(depth) +
                  " inputs could overflow the int32 accumulator; at most "
                  "65536 are supported");
  p.setActivation();
  return true;
}

bool int8::prepareAdd(Int8Preparer &p) {
  // ADD, SUB: both inputs rescaled onto twice the larger input scale.
  const Tensor &a = p.in(0), &b = p.in(1);
  if (!p.requireInt8({&a, &b, &p.y}))
    return false;
  const double sa = a.quant.scale[0], sb = b.quant.scale[0],
               twiceMax = 2.0 * std::max(sa, sb);
  constexpr int kLeftShift = 20;
  QuantizedParams &q = p.q;
  q.inputZero[0] = a.quant.zeroPoint[0];
  q.inputZero[1] = b.quant.zeroPoint[0];
  quantizeMultiplier(sa / twiceMax, q.inputMultiplier[0], q.inputShift[0]);
  quantizeMultiplier(sb / twiceMax, q.inputMultiplier[1], q.inputShift[1]);
  p.setOutput(twiceMax / (double(1 << kLeftShift) * p.y.quant.scale[0]));
  p.setActivation();
  return true;
}

bool int8::prepareMul(Int8Preparer &p) {
  const Tensor &a = p.in(0), &b = p.in(1);
  if (!p.requireInt8({&a, &b, &p.y}))
    return false;
  p.q.inputZero[0] = a.quant.zeroPoint[0];
  p.q.inputZero[1] = b.quant.zeroPoint[0];
  p.setOutput(double(a.quant.scale[0]) * double(b.quant.scale[0]) /
              double(p.y.quant.scale[0]));
  p.setActivation();
  return true;
}

bool int8::prepareSameScale(Int8Preparer &p) {
  // MAXIMUM, MINIMUM: no rescaling.
  return p.requireInt8({&p.in(0), &p.in(1), &p.y}) &&
         p.requireSame(p.in(0), p.y) && p.requireSame(p.in(1), p.y);
}

bool int8::preparePool(Int8Preparer &p) {
  if (!p.requireInt8({&p.in(0), &p.y}) || !p.requireSame(p.in(0), p.y))
    return false;
  p.setActivation();
  return true;
}

bool int8::prepareMean(Int8Preparer &p) {
  const Tensor &x = p.in(0);
  if (!p.requireInt8({&x, &p.y}))
    return false;
  const int64_t count = x.shape[1] * x.shape[2];
  if (count > (int64_t(1) << 23))
    return p.fail("an int8 MEAN over more than 2^23 elements could overflow "
                  "its int32 sum");
  p.q.inputZero[0] = x.quant.zeroPoint[0];
  p.q.value = int32_t(count);
  p.setOutput(double(x.quant.scale[0]) /
              (double(p.y.quant.scale[0]) * double(count)));
  return true;
}

bool int8::prepareMove(Int8Preparer &p) {
  // Data movement (RESHAPE, SLICE, TRANSPOSE, TILE, PAD, nearest resize):
  // the same quantisation in and out; PAD fills with the zero point.
  if (!p.requireInt8({&p.in(0), &p.y}) || !p.requireSame(p.in(0), p.y))
    return false;
  p.q.value = p.y.quant.zeroPoint[0];
  return true;
}

bool int8::preparePadV2(Int8Preparer &p) {
  // The loader checked the value operand (its quantisation is the input's)
  // and kept its integer in op.alpha.
  if (!p.requireInt8({&p.in(0), &p.y}) || !p.requireSame(p.in(0), p.y))
    return false;
  p.q.value = int32_t(p.op.alpha);
  return true;
}

bool int8::prepareConcatenation(Int8Preparer &p) {
  for (size_t i = 0; i < p.op.inputs.size(); ++i)
    if (!p.requireInt8({&p.in(i)}) || !p.requireSame(p.in(i), p.y))
      return false;
  if (!p.requireInt8({&p.y}))
    return false;
  p.setActivation();
  return true;
}

bool int8::prepareTable(Int8Preparer &p) {
  // A function of one input: its 256 values, each rounded once.
  const Tensor &x = p.in(0), &y = p.y;
  if (p.op.inputs.size() != 1 || !p.requireInt8({&x, &y}))
    return p.op.inputs.size() != 1 ? p.fail("expected one input") : false;
  const UnaryFn fn = registration(p.op.kind).unary;
  p.q.table.resize(256);
  for (int v = -128; v < 128; ++v) {
    float real = dequantizeValue(v, x.quant.scale[0], x.quant.zeroPoint[0]);
    p.q.table[v + 128] =
        quantizeToInt8(fn(real, p.op), y.quant.scale[0], y.quant.zeroPoint[0]);
  }
  return true;
}

namespace {

struct Requantizer {
  const QuantizedParams &q;
  int8_t operator()(int32_t acc, size_t channel) const {
    const size_t i = q.multiplier.size() == 1 ? 0 : channel;
    int32_t v = multiplyByQuantizedMultiplier(acc, q.multiplier[i], q.shift[i]);
    return saturate(v + q.outputZero, q.activationMin, q.activationMax);
  }
};

void convolution(const Tensor &x, const int8_t *in, const Tensor &w,
                 const int32_t *bias, const Op &op, const Tensor &y,
                 int8_t *out) {
  const int64_t n = x.shape[0], h = x.shape[1], wd = x.shape[2], c = x.shape[3];
  const int64_t oh = y.shape[1], ow = y.shape[2], oc = y.shape[3];
  const bool depthwise = op.kind == OpKind::DepthwiseConv;
  const int64_t icg = w.shape[3], ocg = oc / op.groups, m = op.depthMultiplier;
  const int8_t *filter = w.i8();
  const int32_t offset = -op.quant.inputZero[0];
  const Requantizer requantize{op.quant};
  std::vector<int64_t> acc(oc);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t r = 0; r < oh; ++r)
      for (int64_t p = 0; p < ow; ++p) {
        std::fill(acc.begin(), acc.end(), 0);
        for (int64_t ky = 0; ky < op.kernelH; ++ky) {
          int64_t iy = r * op.strideH + ky * op.dilationH - op.padTop;
          if (iy < 0 || iy >= h)
            continue;
          for (int64_t kx = 0; kx < op.kernelW; ++kx) {
            int64_t ix = p * op.strideW + kx * op.dilationW - op.padLeft;
            if (ix < 0 || ix >= wd)
              continue;
            const int8_t *pixel = in + ((b * h + iy) * wd + ix) * c;
            if (depthwise) {
              const int8_t *f = filter + (ky * op.kernelW + kx) * oc;
              for (int64_t o = 0; o < oc; ++o)
                acc[o] += (int32_t(pixel[o / m]) + offset) * int32_t(f[o]);
              continue;
            }
            for (int64_t o = 0; o < oc; ++o) {
              const int8_t *f =
                  filter + ((o * op.kernelH + ky) * op.kernelW + kx) * icg;
              const int8_t *src = pixel + (o / ocg) * icg;
              int32_t sum = 0;
              for (int64_t i = 0; i < icg; ++i)
                sum += (int32_t(src[i]) + offset) * int32_t(f[i]);
              acc[o] += sum;
            }
          }
        }
        int8_t *dst = out + ((b * oh + r) * ow + p) * oc;
        for (int64_t o = 0; o < oc; ++o)
          dst[o] = requantize(wrap(acc[o] + (bias ? bias[o] : 0)), o);
      }
}

} // namespace

void mobileone::runtime::runQuantizedOp(const Model &model, const Op &op,
                                        const std::vector<const void *> &ins,
                                        void *out) {
  registration(op.kind).runInt8(model, op, ins, out);
}

// The rows' int8 kernels (Registry.h): operand 0 `x` read from ins[0] as
// int8, the output written as int8 (DEQUANTIZE: float32).
namespace {
struct Int8Operands {
  const Tensor &x, &y;
  const QuantizedParams &q;
  const int8_t *in;
  int8_t *out;
  Int8Operands(const Model &model, const Op &op,
               const std::vector<const void *> &ins, void *outData)
      : x(model.tensors[op.inputs[0]]), y(model.tensors[op.output]),
        q(op.quant), in(static_cast<const int8_t *>(ins[0])),
        out(static_cast<int8_t *>(outData)) {}
};
} // namespace

void int8::quantize(const Model &model, const Op &op,
                    const std::vector<const void *> &ins, void *outData) {
  Int8Operands o(model, op, ins, outData);
  const QuantizedParams &q = o.q;
  if (o.x.isFloat32()) {
    const float *src = static_cast<const float *>(ins[0]);
    if (kernels::quantizeFloats(src, o.out, size_t(o.y.elements), q.scale,
                                q.outputZero))
      return; // the same values, 8 at a time
    for (int64_t i = 0; i < o.y.elements; ++i)
      o.out[i] = quantizeToInt8(src[i], q.scale, q.outputZero);
    return;
  }
  // (in - z) x (1 - 0), requantised: the same arithmetic.
  kernels::MulInt8 m = mulInt8Of(q);
  const int8_t one = 1;
  m.a = o.in;
  m.b = &one;
  m.zeroB = 0;
  m.out = o.out;
  m.images = 1;
  m.pixels = 1;
  m.channels = size_t(o.y.elements);
  m.bScalar = true;
  if (kernels::mulInt8(m))
    return;
  const Requantizer requantize{q};
  for (int64_t i = 0; i < o.y.elements; ++i)
    o.out[i] = requantize(int32_t(o.in[i]) - q.inputZero[0], 0);
}

void int8::dequantize(const Model &model, const Op &op,
                      const std::vector<const void *> &ins, void *outData) {
  Int8Operands o(model, op, ins, outData);
  float *dst = static_cast<float *>(outData);
  for (int64_t i = 0; i < o.y.elements; ++i)
    dst[i] = dequantizeValue(o.in[i], o.q.scale, o.q.inputZero[0]);
}

void int8::conv(const Model &model, const Op &op,
                const std::vector<const void *> &ins, void *outData) {
  // CONV_2D, DEPTHWISE_CONV_2D.
  Int8Operands o(model, op, ins, outData);
  convolution(o.x, o.in, model.tensors[op.inputs[1]],
              op.inputs.size() > 2 ? model.tensors[op.inputs[2]].i32()
                                   : nullptr,
              op, o.y, o.out);
}

void int8::fullyConnected(const Model &model, const Op &op,
                          const std::vector<const void *> &ins,
                          void *outData) {
  Int8Operands o(model, op, ins, outData);
  const Tensor &w = model.tensors[op.inputs[1]];
  const int32_t *bias =
      op.inputs.size() > 2 ? model.tensors[op.inputs[2]].i32() : nullptr;
  const int64_t m = w.shape[0], k = w.shape[1], rows = o.x.elements / k;
  const int32_t offset = -o.q.inputZero[0];
  const Requantizer requantize{o.q};
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < m; ++j) {
      int32_t acc = 0;
      for (int64_t i = 0; i < k; ++i)
        acc += (int32_t(o.in[r * k + i]) + offset) * int32_t(w.i8()[j * k + i]);
      o.out[r * m + j] =
          requantize(wrap(int64_t(acc) + (bias ? bias[j] : 0)), j);
    }
}

void int8::add(const Model &model, const Op &op,
               const std::vector<const void *> &ins, void *outData) {
  // ADD, SUB.
  Int8Operands o(model, op, ins, outData);
  const QuantizedParams &q = o.q;
  const Tensor &b = model.tensors[op.inputs[1]];
  const int8_t *pb = static_cast<const int8_t *>(ins[1]);
  const bool sub = op.kind == OpKind::Sub;
  if (b.shape == o.x.shape && o.x.shape == o.y.shape) {
    kernels::AddInt8 k;
    k.a = o.in;
    k.b = pb;
    k.out = o.out;
    k.elements = size_t(o.x.elements);
    k.subtract = sub;
    k.zeroA = q.inputZero[0];
    k.zeroB = q.inputZero[1];
    k.outputZero = q.outputZero;
    k.multiplierA = q.inputMultiplier[0];
    k.multiplierB = q.inputMultiplier[1];
    k.shiftA = q.inputShift[0];
    k.shiftB = q.inputShift[1];
    k.multiplier = q.multiplier[0];
    k.shift = q.shift[0];
    k.activationMin = q.activationMin;
    k.activationMax = q.activationMax;
    if (kernels::addInt8(k))
      return;
  }
  const Requantizer requantize{q};
  forEachBroadcast(o.x, b, o.y, [&](int64_t ia, int64_t ib, int64_t e) {
    const int32_t va = (int32_t(o.in[ia]) - q.inputZero[0]) * (1 << 20);
    const int32_t vb = (int32_t(pb[ib]) - q.inputZero[1]) * (1 << 20);
    const int32_t sa = multiplyByQuantizedMultiplier(va, q.inputMultiplier[0],
                                                     q.inputShift[0]);
    const int32_t sb = multiplyByQuantizedMultiplier(vb, q.inputMultiplier[1],
                                                     q.inputShift[1]);
    o.out[e] = requantize(sub ? sa - sb : sa + sb, 0);
  });
}

void int8::mul(const Model &model, const Op &op,
               const std::vector<const void *> &ins, void *outData) {
  Int8Operands o(model, op, ins, outData);
  const QuantizedParams &q = o.q;
  const Tensor &b = model.tensors[op.inputs[1]], &x = o.x;
  const int8_t *pb = static_cast<const int8_t *>(ins[1]);
  // Same shapes, or [N, 1, 1, C] times [N, H, W, C] (squeeze-excite's
  // gate): 8 at a time.
  const bool same = b.shape == x.shape && x.shape == o.y.shape;
  const bool gate =
      x.shape.size() == 4 && x.shape == o.y.shape &&
      b.shape == std::vector<int64_t>{x.shape[0], 1, 1, x.shape[3]};
  if ((same || gate) && !x.shape.empty()) {
    kernels::MulInt8 m = mulInt8Of(q);
    m.a = o.in;
    m.b = pb;
    m.out = o.out;
    m.channels = size_t(x.shape.back());
    m.images = same ? 1 : size_t(x.shape[0]);
    m.pixels = m.channels ? size_t(x.elements) / m.channels / m.images : 0;
    m.bPerPixel = same;
    if (kernels::mulInt8(m))
      return;
  }
  const Requantizer requantize{q};
  forEachBroadcast(x, b, o.y, [&](int64_t ia, int64_t ib, int64_t e) {
    o.out[e] = requantize((int32_t(o.in[ia]) - q.inputZero[0]) *
                              (int32_t(pb[ib]) - q.inputZero[1]),
                          0);
  });
}

void int8::maxMin(const Model &model, const Op &op,
                  const std::vector<const void *> &ins, void *outData) {
  // MAXIMUM, MINIMUM (one quantisation: the integers compare as the reals).
  Int8Operands o(model, op, ins, outData);
  const Tensor &b = model.tensors[op.inputs[1]];
  const int8_t *pb = static_cast<const int8_t *>(ins[1]);
  const bool max = op.kind == OpKind::Maximum;
  forEachBroadcast(o.x, b, o.y, [&](int64_t ia, int64_t ib, int64_t e) {
    o.out[e] = max ? std::max(o.in[ia], pb[ib]) : std::min(o.in[ia], pb[ib]);
  });
}

void int8::averagePool(const Model &model, const Op &op,
                       const std::vector<const void *> &ins, void *outData) {
  Int8Operands o(model, op, ins, outData);
  const QuantizedParams &q = o.q;
  poolWindows(
      o.x, o.in, o.y, op, int32_t(0),
      [](int32_t acc, int8_t v) { return acc + v; },
      [&](int32_t acc, int64_t n) {
        // TFLite's rounding of the average: half away from zero.
        const int32_t count = int32_t(n);
        if (count == 0)
          return int8_t(q.outputZero);
        acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
        return saturate(acc, q.activationMin, q.activationMax);
      },
      o.out);
}

void int8::maxPool(const Model &model, const Op &op,
                   const std::vector<const void *> &ins, void *outData) {
  Int8Operands o(model, op, ins, outData);
  const QuantizedParams &q = o.q;
  poolWindows(
      o.x, o.in, o.y, op, int32_t(-128),
      [](int32_t acc, int8_t v) { return std::max<int32_t>(acc, v); },
      [&](int32_t acc, int64_t) {
        return saturate(acc, q.activationMin, q.activationMax);
      },
      o.out);
}

void int8::mean(const Model &model, const Op &op,
                const std::vector<const void *> &ins, void *outData) {
  Int8Operands o(model, op, ins, outData);
  const int64_t n = o.x.shape[0], plane = o.x.shape[1] * o.x.shape[2],
                c = o.x.shape[3];
  const Requantizer requantize{o.q};
  std::vector<int32_t> sums(static_cast<size_t>(c));
  for (int64_t b = 0; b < n; ++b) {
    // Pixel by pixel (the channels contiguous): the same integer sums.
    std::fill(sums.begin(), sums.end(), -o.q.inputZero[0] * int32_t(plane));
    for (int64_t i = 0; i < plane; ++i) {
      const int8_t *pixel = o.in + (b * plane + i) * c;
      for (int64_t ch = 0; ch < c; ++ch)
        sums[ch] += pixel[ch];
    }
    for (int64_t ch = 0; ch < c; ++ch)
      o.out[b * c + ch] = requantize(sums[ch], 0);
  }
}

void int8::copy(const Model &model, const Op &op,
                const std::vector<const void *> &ins, void *outData) {
  // RESHAPE.
  std::memmove(outData, ins[0], size_t(model.tensors[op.output].elements));
}

void int8::pad(const Model &model, const Op &op,
               const std::vector<const void *> &ins, void *outData) {
  Int8Operands o(model, op, ins, outData);
  padInt8(o.x, o.in, o.y, {0, op.padTop, op.padLeft, 0}, int8_t(o.q.value),
          o.out);
}

void int8::padV2(const Model &model, const Op &op,
                 const std::vector<const void *> &ins, void *outData) {
  Int8Operands o(model, op, ins, outData);
  std::vector<int64_t> before;
  for (size_t d = 0; d < o.x.shape.size(); ++d)
    before.push_back(op.ints[2 * d]);
  padInt8(o.x, o.in, o.y, before, int8_t(o.q.value), o.out);
}

void int8::gather(const Model &model, const Op &op,
                  const std::vector<const void *> &ins, void *outData) {
  // SLICE, TRANSPOSE, TILE.
  Int8Operands o(model, op, ins, outData);
  gatherInt8(o.x, o.in, o.y, op, o.out);
}

void int8::resizeNearest(const Model &model, const Op &op,
                         const std::vector<const void *> &ins,
                         void *outData) {
  Int8Operands o(model, op, ins, outData);
  resizeNearestInt8(o.x, o.in, o.y, op, o.out);
}

void int8::concatenation(const Model &model, const Op &op,
                         const std::vector<const void *> &ins,
                         void *outData) {
  Int8Operands o(model, op, ins, outData);
  const QuantizedParams &q = o.q;
  std::vector<const int8_t *> parts;
  for (const void *p : ins)
    parts.push_back(static_cast<const int8_t *>(p));
  if (q.activationMin == -128 && q.activationMax == 127)
    concatenate(model, op, parts, o.y, o.out, nullptr); // row copies
  else
    concatenate(model, op, parts, o.y, o.out, [&](int8_t v) {
      return saturate(v, q.activationMin, q.activationMax);
    });
}

void int8::table(const Model &model, const Op &op,
                 const std::vector<const void *> &ins, void *outData) {
  // A tabulated function of one input.
  Int8Operands o(model, op, ins, outData);
  if (kernels::lookupInt8(o.in, o.out, size_t(o.y.elements),
                          o.q.table.data()))
    return;
  for (int64_t i = 0; i < o.y.elements; ++i)
    o.out[i] = o.q.table[size_t(int32_t(o.in[i]) + 128)];
}
