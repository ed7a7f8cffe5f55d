//===- Decode.cpp - each TFLite builtin's decoding and validation ---------===//
//
// The `decode` functions of the registrations (Registry.h): each reads one
// operator's options and checks its operands' types and shapes and its
// output's shape, so that the kernels need no checks of their own.
//
//===----------------------------------------------------------------------===//

#include "Decode.h"
#include "Registry.h"

#include "mobileone/Runtime/Npy.h"
#include "mobileone/Support/Half.h"

#include <algorithm>
#include <cmath>

using namespace mobileone::runtime;

namespace {
/// One pooling operator's work, at most (see decode::pool): window
/// positions over all output pixels (XNNPACK keeps a pointer for each) and
/// reads over all outputs. A global pool over a 640x640 map is 409,600
/// positions; a 3x3 pool of 112x112x64 outputs is 7.2 M reads.
constexpr int64_t kMaxPoolWindowReads = int64_t(1) << 24;
constexpr int64_t kMaxPoolReads = int64_t(1) << 28;
} // namespace

bool Decoder::fail(const std::string &msg) {
  error =
      "operator #" + std::to_string(index) + " (" + out.opName + "): " + msg;
  return false;
}

bool Decoder::need(size_t n) {
  if (out.inputs.size() != n)
    return fail("expected " + std::to_string(n) + " inputs, got " +
                std::to_string(out.inputs.size()));
  return true;
}

bool Decoder::expectShape(const Tensor &t, const std::vector<int64_t> &shape,
                          const char *what) {
  if (t.shape != shape)
    return fail(std::string(what) + " '" + t.name + "' has shape " +
                shapeText(t.shape) + ", expected " + shapeText(shape));
  return true;
}

bool Decoder::floatActivation(const Tensor &t) {
  if (t.isInt32())
    return fail("tensor '" + t.name + "' must be FLOAT32");
  return true;
}

bool Decoder::activation(tflite::ActivationFunctionType a) {
  switch (a) {
  case tflite::ActivationFunctionType_NONE:
    return true;
  case tflite::ActivationFunctionType_RELU:
    out.outMin = 0.0f;
    return true;
  case tflite::ActivationFunctionType_RELU6:
    out.outMin = 0.0f;
    out.outMax = 6.0f;
    return true;
  case tflite::ActivationFunctionType_RELU_N1_TO_1:
    out.outMin = -1.0f;
    out.outMax = 1.0f;
    return true;
  default:
    return fail(std::string("unsupported fused activation ") +
                tflite::EnumNameActivationFunctionType(a));
  }
}

bool Decoder::broadcastShape(const Tensor &a, const Tensor &b,
                             std::vector<int64_t> &shape) {
  if (!floatActivation(a) || !floatActivation(b) || a.shape.size() > 4 ||
      b.shape.size() > 4)
    return fail("expected FLOAT32 operands of rank <= 4");
  size_t rank = std::max(a.shape.size(), b.shape.size());
  shape.assign(rank, 0);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da =
        i < rank - a.shape.size() ? 1 : a.shape[i - (rank - a.shape.size())];
    int64_t db =
        i < rank - b.shape.size() ? 1 : b.shape[i - (rank - b.shape.size())];
    if (da != db && da != 1 && db != 1)
      return fail("operands " + shapeText(a.shape) + " and " +
                  shapeText(b.shape) + " do not broadcast");
    shape[i] = da == 1 ? db : da;
  }
  return true;
}

bool Decoder::resolvePadding(tflite::Padding p, int64_t inH, int64_t inW,
                             int64_t &outH, int64_t &outW) {
  int64_t effH = int64_t(out.dilationH) * (out.kernelH - 1) + 1;
  int64_t effW = int64_t(out.dilationW) * (out.kernelW - 1) + 1;
  if (p == tflite::Padding_SAME) {
    outH = (inH + out.strideH - 1) / out.strideH;
    outW = (inW + out.strideW - 1) / out.strideW;
    int64_t th = std::max<int64_t>((outH - 1) * out.strideH + effH - inH, 0);
    int64_t tw = std::max<int64_t>((outW - 1) * out.strideW + effW - inW, 0);
    if (th > 1 << 16 || tw > 1 << 16)
      return fail("padding out of range");
    out.padTop = int(th / 2);
    out.padBottom = int(th - th / 2);
    out.padLeft = int(tw / 2);
    out.padRight = int(tw - tw / 2);
  } else {
    if (inH < effH || inW < effW)
      return fail("the kernel is larger than the input");
    outH = (inH - effH) / out.strideH + 1;
    outW = (inW - effW) / out.strideW + 1;
  }
  return true;
}

bool Decoder::positive(int v, const char *what) {
  if (v < 1 || v > 1 << 16)
    return fail(std::string(what) + " " + std::to_string(v) + " out of range");
  return true;
}

bool Decoder::ints(size_t i, int64_t count) {
  const Tensor &t = in(i);
  if (!t.data || !t.isInt32() || t.elements != count)
    return fail("operand #" + std::to_string(i) +
                " must be a constant INT32 tensor of " + std::to_string(count) +
                " values");
  out.ints.insert(out.ints.end(), t.i32(), t.i32() + count);
  return true;
}

bool Decoder::readsOnlyData(const std::vector<int64_t> &shape) {
  out.inputs.resize(1);
  return expectShape(output(), shape, "output");
}

bool Decoder::rankedInput(size_t operands) {
  if (!need(operands))
    return false;
  const Tensor &x = in(0);
  if (!floatActivation(x) || x.shape.empty() || x.shape.size() > 6)
    return fail("expected a FLOAT32 input of rank 1 to 6");
  return true;
}

bool decode::conv(Decoder &c) {
  Op &out = c.out;
  const Tensor &y = c.output();
  const tflite::Operator &op = c.op;
  const bool depthwise = out.kind == OpKind::DepthwiseConv;
  if (out.inputs.size() != 3 && out.inputs.size() != 2)
    return c.fail("expected input, filter and bias");
  const Tensor &x = c.in(0), &w = c.in(1);
  if (!c.floatActivation(x) || x.data || x.shape.size() != 4)
    return c.fail("expected a 4-D FLOAT32 activation input");
  if (!w.data || !(w.isFloat32() || w.isInt8()) || w.shape.size() != 4)
    return c.fail("expected a constant 4-D FLOAT32 (or INT8) filter");
  tflite::Padding padding;
  // Conv2DOptions and DepthwiseConv2DOptions share these fields.
  auto readOptions = [&](const auto *o, const char *what) {
    if (!o)
      return c.fail(std::string("missing ") + what);
    out.strideH = o->stride_h(), out.strideW = o->stride_w();
    out.dilationH = o->dilation_h_factor();
    out.dilationW = o->dilation_w_factor();
    padding = o->padding();
    return c.activation(o->fused_activation_function());
  };
  if (depthwise) {
    if (!readOptions(op.builtin_options_as_DepthwiseConv2DOptions(),
                     "DepthwiseConv2DOptions"))
      return false;
    const int64_t channels = x.shape[3];
    if (w.shape[0] != 1 || w.shape[3] % channels != 0)
      return c.fail("filter " + shapeText(w.shape) + " does not fit " +
                    std::to_string(channels) + " input channels");
    out.depthMultiplier = int(w.shape[3] / channels);
  } else {
    if (!readOptions(op.builtin_options_as_Conv2DOptions(), "Conv2DOptions"))
      return false;
    // A grouped convolution has a filter of [OC, KH, KW, C / groups].
    if (w.shape[3] < 1 || x.shape[3] % w.shape[3] != 0 ||
        w.shape[0] % (x.shape[3] / w.shape[3]) != 0)
      return c.fail("filter " + shapeText(w.shape) + " does not divide " +
                    std::to_string(x.shape[3]) + " input channels into groups");
    out.groups = int(x.shape[3] / w.shape[3]);
  }
  if (!c.positive(out.strideH, "stride") ||
      !c.positive(out.strideW, "stride") ||
      !c.positive(out.dilationH, "dilation") ||
      !c.positive(out.dilationW, "dilation"))
    return false;
  out.kernelH = int(w.shape[1]);
  out.kernelW = int(w.shape[2]);
  int64_t oc = depthwise ? w.shape[3] : w.shape[0];
  if (out.inputs.size() == 3) {
    const Tensor &b = c.in(2);
    if (!b.data || !(x.isInt8() ? b.isInt32() : b.isFloat32()) ||
        b.shape != std::vector<int64_t>{oc})
      return c.fail(std::string("expected a constant ") +
                    (x.isInt8() ? "INT32" : "FLOAT32") + " bias of [" +
                    std::to_string(oc) + "]");
  }
  int64_t oh, ow;
  if (!c.resolvePadding(padding, x.shape[1], x.shape[2], oh, ow))
    return false;
  return c.expectShape(y, {x.shape[0], oh, ow, oc}, "output");
}

bool decode::transposeConv(Decoder &c) {
  Op &out = c.out;
  const Tensor &y = c.output();
  const tflite::Operator &op = c.op;
  // Inputs: output shape, filter [OC, KH, KW, C], input, optional bias.
  // Held as input, filter, bias like a convolution; padTop/padLeft crop
  // the full output's start (SAME), its end is cropped to the shape.
  if (out.inputs.size() != 3 && out.inputs.size() != 4)
    return c.fail("expected output shape, filter, input and "
                  "an optional bias");
  const Tensor &s = c.in(0), &w = c.in(1), &x = c.in(2);
  if (!s.data || !s.isInt32() || s.shape != std::vector<int64_t>{4})
    return c.fail("expected a constant INT32 output shape of "
                  "4 entries");
  if (!c.floatActivation(x) || x.data || x.isInt8() || x.shape.size() != 4)
    return c.fail("expected a 4-D FLOAT32 activation input");
  if (!w.data || !w.isFloat32() || w.shape.size() != 4 ||
      w.shape[3] != x.shape[3])
    return c.fail("expected a constant FLOAT32 filter [OC, KH, KW, " +
                  std::to_string(x.shape[3]) + "]");
  const int64_t oc = w.shape[0];
  if (out.inputs.size() == 4) {
    const Tensor &b = c.in(3);
    if (!b.data || !b.isFloat32() || b.shape != std::vector<int64_t>{oc})
      return c.fail("expected a constant FLOAT32 bias of [" +
                    std::to_string(oc) + "]");
  }
  const auto *o = op.builtin_options_as_TransposeConvOptions();
  if (!o)
    return c.fail("missing TransposeConvOptions");
  out.strideH = o->stride_h(), out.strideW = o->stride_w();
  if (!c.positive(out.strideH, "stride") ||
      !c.positive(out.strideW, "stride") ||
      !c.activation(o->fused_activation_function()))
    return false;
  out.kernelH = int(w.shape[1]);
  out.kernelW = int(w.shape[2]);
  const int32_t *shape = s.i32();
  std::vector<int64_t> want(shape, shape + 4);
  if (want[0] != x.shape[0] || want[3] != oc || want[1] < 1 || want[2] < 1 ||
      want[1] > 1 << 16 || want[2] > 1 << 16)
    return c.fail("output shape " + shapeText(want) + " does not fit input " +
                  shapeText(x.shape) + " and filter " + shapeText(w.shape));
  if (o->padding() == tflite::Padding_SAME) {
    // TFLite pads as for the convolution from the output to the input.
    int64_t th = std::max<int64_t>(
        (x.shape[1] - 1) * out.strideH + out.kernelH - want[1], 0);
    int64_t tw = std::max<int64_t>(
        (x.shape[2] - 1) * out.strideW + out.kernelW - want[2], 0);
    out.padTop = int(th / 2);
    out.padLeft = int(tw / 2);
  }
  out.inputs =
      out.inputs.size() == 4
          ? std::vector<int>{out.inputs[2], out.inputs[1], out.inputs[3]}
          : std::vector<int>{out.inputs[2], out.inputs[1]};
  return c.expectShape(y, want, "output");
}

bool decode::resize(Decoder &c) {
  Op &out = c.out;
  const Tensor &y = c.output();
  const tflite::Operator &op = c.op;
  const bool nearest = out.kind == OpKind::ResizeNearest;
  if (!c.need(2))
    return false;
  const Tensor &x = c.in(0), &s = c.in(1);
  if (!c.floatActivation(x) || x.data || x.shape.size() != 4)
    return c.fail("expected a 4-D activation input");
  if (!s.data || !s.isInt32() || s.shape != std::vector<int64_t>{2} ||
      s.i32()[0] < 1 || s.i32()[1] < 1 || s.i32()[0] > 1 << 16 ||
      s.i32()[1] > 1 << 16)
    return c.fail("expected a constant INT32 size [2] of "
                  "positive entries up to 65536");
  if (nearest) {
    const auto *o = op.builtin_options_as_ResizeNearestNeighborOptions();
    if (o)
      out.alignCorners = o->align_corners(),
      out.halfPixelCenters = o->half_pixel_centers();
  } else {
    const auto *o = op.builtin_options_as_ResizeBilinearOptions();
    if (o)
      out.alignCorners = o->align_corners(),
      out.halfPixelCenters = o->half_pixel_centers();
  }
  if (out.alignCorners && out.halfPixelCenters)
    return c.fail("align_corners and half_pixel_centers "
                  "cannot both be set");
  out.inputs.resize(1);
  return c.expectShape(y, {x.shape[0], s.i32()[0], s.i32()[1], x.shape[3]},
                       "output");
}

bool decode::argMax(Decoder &c) {
  Op &out = c.out;
  const Tensor &y = c.output();
  const tflite::Operator &op = c.op;
  // Indices of the maximum along one axis, INT32 (the first on ties).
  if (!c.need(2))
    return false;
  const Tensor &x = c.in(0), &a = c.in(1);
  if (!c.floatActivation(x) || x.data || x.isInt8() || x.shape.empty() ||
      x.shape.size() > 6)
    return c.fail("expected a FLOAT32 activation input of "
                  "rank 1 to 6");
  if (!a.data || !a.isInt32() || a.elements != 1)
    return c.fail("expected a constant INT32 axis");
  int64_t axis = a.i32()[0];
  if (axis < 0)
    axis += int64_t(x.shape.size());
  if (axis < 0 || axis >= int64_t(x.shape.size()) || x.shape[axis] < 1)
    return c.fail("axis " + std::to_string(a.i32()[0]) + " out of range for " +
                  shapeText(x.shape));
  const auto *o = op.builtin_options_as_ArgMaxOptions();
  if (o && o->output_type() != tflite::TensorType_INT32)
    return c.fail("only INT32 indices are supported");
  out.axis = int(axis);
  std::vector<int64_t> shape = x.shape;
  shape.erase(shape.begin() + axis);
  out.inputs.resize(1);
  return c.expectShape(y, shape, "output");
}

bool decode::pad(Decoder &c) {
  Op &out = c.out;
  const Tensor &y = c.output();
  if (!c.need(2))
    return false;
  const Tensor &x = c.in(0), &p = c.in(1);
  const int64_t rank = x.shape.size();
  if (!c.floatActivation(x) || rank == 0 || rank > 6 || !p.data ||
      !p.isInt32() || p.shape != std::vector<int64_t>{rank, 2})
    return c.fail("expected a FLOAT32 input of rank 1 to 6 and constant "
                  "INT32 paddings [rank, 2]");
  const int32_t *v = p.i32();
  if (std::any_of(v, v + 2 * rank,
                  [](int32_t a) { return a < 0 || a > 1 << 16; }))
    return c.fail("paddings must be in [0, 65536]");
  std::vector<int64_t> shape = x.shape;
  for (int64_t d = 0; d < rank; ++d)
    shape[d] += v[2 * d] + v[2 * d + 1];
  if (rank == 4 && !v[0] && !v[1] && !v[6] && !v[7]) {
    // Zeros around H and W of NHWC: foldable into a convolution or pool.
    out.kind = OpKind::Pad;
    out.padTop = v[2], out.padBottom = v[3], out.padLeft = v[4],
    out.padRight = v[5];
  } else {
    // Any other dimensions: the general pad, with zeros (an int8 tensor's
    // zero is its zero point: TFLite pads an int8 PAD with it).
    out.kind = OpKind::PadV2;
    out.ints.assign(v, v + 2 * rank);
    out.alpha = x.isInt8() && !x.quant.zeroPoint.empty()
                    ? float(x.quant.zeroPoint[0])
                    : 0.0f;
    out.inputs.resize(1);
  }
  return c.expectShape(y, shape, "output");
}

bool decode::pool(Decoder &c) {
  Op &out = c.out;
  const Tensor &y = c.output();
  const tflite::Operator &op = c.op;
  if (!c.need(1))
    return false;
  const Tensor &x = c.in(0);
  const auto *o = op.builtin_options_as_Pool2DOptions();
  if (!c.floatActivation(x) || x.shape.size() != 4 || !o)
    return c.fail("expected a 4-D input and Pool2DOptions");
  out.strideH = o->stride_h(), out.strideW = o->stride_w();
  out.kernelH = o->filter_height(), out.kernelW = o->filter_width();
  if (!c.positive(out.strideH, "stride") ||
      !c.positive(out.strideW, "stride") ||
      !c.positive(out.kernelH, "filter") ||
      !c.positive(out.kernelW, "filter") ||
      !c.activation(o->fused_activation_function()))
    return false;
  int64_t oh, ow;
  if (!c.resolvePadding(o->padding(), x.shape[1], x.shape[2], oh, ow))
    return false;
  // The work of a pool does not grow with the file: a 400-byte model with
  // a 65536 x 65536 SAME window would keep a runtime busy for hours
  // (found by fuzz-tflite-run). Real pools read a few reads per output.
  const int64_t windowReads =
      x.shape[0] * oh * ow * int64_t(out.kernelH) * out.kernelW;
  if (windowReads > kMaxPoolWindowReads ||
      windowReads * x.shape[3] > kMaxPoolReads)
    return c.fail("a " + std::to_string(out.kernelH) + "x" +
                  std::to_string(out.kernelW) + " window over " +
                  shapeText({x.shape[0], oh, ow, x.shape[3]}) +
                  " outputs needs more than 2^24 window positions or "
                  "2^28 reads; refusing");
  return c.expectShape(y, {x.shape[0], oh, ow, x.shape[3]}, "output");
}

bool decode::mean(Decoder &c) {
  const Tensor &y = c.output();
  if (!c.need(2))
    return false;
  const Tensor &x = c.in(0), &axes = c.in(1);
  if (!c.floatActivation(x) || x.shape.size() != 4 || !axes.data ||
      !axes.isInt32() || axes.elements != 2 ||
      !((axes.i32()[0] == 1 && axes.i32()[1] == 2) ||
        (axes.i32()[0] == 2 && axes.i32()[1] == 1)))
    return c.fail("only MEAN over axes [1, 2] of a 4-D input "
                  "is supported");
  std::vector<int64_t> keep = {x.shape[0], 1, 1, x.shape[3]};
  std::vector<int64_t> drop = {x.shape[0], x.shape[3]};
  if (y.shape != keep && y.shape != drop)
    return c.fail("unexpected output shape " + shapeText(y.shape));
  return true;
}

bool decode::fullyConnected(Decoder &c) {
  Op &out = c.out;
  const Tensor &y = c.output();
  const tflite::Operator &op = c.op;
  if (out.inputs.size() != 3 && out.inputs.size() != 2)
    return c.fail("expected input, weights and bias");
  const Tensor &x = c.in(0), &w = c.in(1);
  const auto *o = op.builtin_options_as_FullyConnectedOptions();
  if (o && !c.activation(o->fused_activation_function()))
    return false;
  if (!c.floatActivation(x) || x.shape.empty() || !w.data ||
      !(w.isFloat32() || w.isInt8()) || w.shape.size() != 2 ||
      x.shape.back() != w.shape[1])
    return c.fail("expected constant weights [M, K] with K "
                  "the input's last dimension");
  if (out.inputs.size() == 3 &&
      (!c.in(2).data ||
       !(x.isInt8() ? c.in(2).isInt32() : c.in(2).isFloat32()) ||
       c.in(2).shape != std::vector<int64_t>{w.shape[0]}))
    return c.fail("expected a constant bias of [" + std::to_string(w.shape[0]) +
                  "]");
  return c.expectShape(y, {x.elements / w.shape[1], w.shape[0]}, "output");
}

bool decode::dequantize(Decoder &c) {
  Op &out = c.out;
  const Tensor &y = c.output();
  Model &m = c.m;
  // TFLite's float16 weights: widened once, here; the output becomes a
  // float32 constant and no operator runs.
  if (!c.need(1))
    return false;
  const Tensor &x = c.in(0);
  if (x.isInt8() && !x.data) {
    // An int8 activation back to float32: an operator.
    return c.expectShape(y, x.shape, "output");
  }
  if (!x.isFloat16() || !x.data)
    return c.fail("expected a constant FLOAT16 input or an "
                  "INT8 activation");
  if (!c.expectShape(y, x.shape, "output"))
    return false;
  std::vector<float> &w = m.widened.emplace_back(size_t(x.elements));
  const uint16_t *h = static_cast<const uint16_t *>(x.data);
  for (int64_t i = 0; i < x.elements; ++i) {
    w[i] = mlir::mobileone::fromHalf(h[i]);
    if (!std::isfinite(w[i]))
      return c.fail("FLOAT16 weight '" + x.name + "' holds " +
                    (std::isnan(w[i]) ? "NaN" : "Inf") + " at element " +
                    std::to_string(i));
  }
  m.tensors[out.output].data = w.data();
  c.emit = false;
  return true;
}

bool decode::quantize(Decoder &c) {
  const Tensor &y = c.output();
  if (!c.need(1))
    return false;
  return c.expectShape(y, c.in(0).shape, "output");
}

bool decode::reshape(Decoder &c) {
  Op &out = c.out;
  const Tensor &y = c.output();
  // A constant input too: the copy the compiler writes for a graph output
  // that is a constant.
  // INT32 indices (ARG_MAX's) move too; INT32 constants are shapes.
  if (out.inputs.empty() || out.inputs.size() > 2 ||
      (c.in(0).isInt32() && (c.in(0).data || !y.isInt32())))
    return c.fail("expected a FLOAT32 input (or INT32 indices)");
  if (y.elements != c.in(0).elements)
    return c.fail("cannot reshape " + shapeText(c.in(0).shape) + " to " +
                  shapeText(y.shape));
  out.inputs.resize(1); // the shape is the output tensor's
  return true;
}

bool decode::binary(Decoder &c) {
  const Tensor &y = c.output();
  const tflite::Operator &op = c.op;
  if (!c.need(2))
    return false;
  if (const auto *o = op.builtin_options_as_AddOptions())
    if (!c.activation(o->fused_activation_function()))
      return false;
  if (const auto *o = op.builtin_options_as_MulOptions())
    if (!c.activation(o->fused_activation_function()))
      return false;
  if (const auto *o = op.builtin_options_as_SubOptions())
    if (!c.activation(o->fused_activation_function()))
      return false;
  if (const auto *o = op.builtin_options_as_DivOptions())
    if (!c.activation(o->fused_activation_function()))
      return false;
  std::vector<int64_t> shape;
  if (!c.broadcastShape(c.in(0), c.in(1), shape))
    return false;
  return c.expectShape(y, shape, "output");
}

bool decode::concatenation(Decoder &c) {
  Op &out = c.out;
  const Tensor &y = c.output();
  const tflite::Operator &op = c.op;
  const auto *o = op.builtin_options_as_ConcatenationOptions();
  if (out.inputs.empty() || !o)
    return c.fail("expected inputs and ConcatenationOptions");
  if (!c.activation(o->fused_activation_function()))
    return false;
  const std::vector<int64_t> &first = c.in(0).shape;
  int64_t rank = first.size(),
          axis = o->axis() < 0 ? o->axis() + rank : o->axis();
  if (axis < 0 || axis >= rank)
    return c.fail("axis out of range");
  out.axis = int(axis);
  std::vector<int64_t> shape = first;
  shape[axis] = 0;
  for (size_t i = 0; i < out.inputs.size(); ++i) {
    const Tensor &t = c.in(i);
    if (!c.floatActivation(t) || int64_t(t.shape.size()) != rank)
      return c.fail("inputs of different ranks");
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis && t.shape[d] != first[d])
        return c.fail("inputs differ off the axis");
    shape[axis] += t.shape[axis];
  }
  return c.expectShape(y, shape, "output");
}

bool decode::batchMatMul(Decoder &c) {
  const Tensor &y = c.output();
  const tflite::Operator &op = c.op;
  if (!c.need(2))
    return false;
  const Tensor &a = c.in(0), &b = c.in(1);
  const auto *o = op.builtin_options_as_BatchMatMulOptions();
  if ((o && (o->adj_x() || o->adj_y())) || a.shape.size() != 3 ||
      b.shape.size() != 3 || a.shape[0] != b.shape[0] ||
      a.shape[2] != b.shape[1] || !c.floatActivation(a) ||
      !c.floatActivation(b))
    return c.fail("expected [B, M, K] x [B, K, N] without adjoints");
  // Both operands may be activations: the work does not grow with the
  // file. 2^34 multiply-adds is over 10x a ViT's attention at 640 x 640.
  if (a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2] > (int64_t(1) << 34))
    return c.fail("[B, M, K] x [B, K, N] = " + shapeText(a.shape) + " x " +
                  shapeText(b.shape) +
                  " needs more than 2^34 multiply-adds; refusing");
  return c.expectShape(y, {a.shape[0], a.shape[1], b.shape[2]}, "output");
}

bool decode::unary(Decoder &c) {
  Op &out = c.out;
  if (out.kind == OpKind::Gelu)
    if (const auto *o = c.op.builtin_options_as_GeluOptions())
      out.approximate = o->approximate();
  if (out.kind == OpKind::LeakyRelu)
    if (const auto *o = c.op.builtin_options_as_LeakyReluOptions())
      out.alpha = o->alpha();
  if (!c.need(1) || !c.floatActivation(c.in(0)) || c.in(0).shape.empty())
    return c.fail("expected one FLOAT32 input");
  return c.expectShape(c.output(), c.in(0).shape, "output");
}

bool decode::softmax(Decoder &c) {
  if (const auto *o = c.op.builtin_options_as_SoftmaxOptions();
      o && o->beta() != 1.0f)
    return c.fail("only beta = 1 is supported");
  return decode::unary(c);
}

bool decode::slice(Decoder &c) {
  Op &out = c.out;
  if (!c.rankedInput(3))
    return false;
  const Tensor &x = c.in(0);
  const int64_t rank = x.shape.size();
  if (!c.ints(1, rank) || !c.ints(2, rank))
    return false;
  std::vector<int64_t> shape = x.shape;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t b = out.ints[d], &n = out.ints[rank + d];
    if (n == -1)
      n = x.shape[d] - b;
    if (b < 0 || n < 0 || b + n > x.shape[d])
      return c.fail("slice out of range");
    shape[d] = n;
  }
  return c.readsOnlyData(shape);
}

bool decode::transpose(Decoder &c) {
  Op &out = c.out;
  if (!c.rankedInput(2))
    return false;
  const Tensor &x = c.in(0);
  const int64_t rank = x.shape.size();
  if (!c.ints(1, rank))
    return false;
  std::vector<int64_t> shape = x.shape;
  std::vector<bool> seen(rank, false);
  for (int64_t d = 0; d < rank; ++d) {
    int64_t p = out.ints[d];
    if (p < 0 || p >= rank || seen[p])
      return c.fail("perm is not a permutation");
    seen[p] = true;
    shape[d] = x.shape[p];
  }
  return c.readsOnlyData(shape);
}

bool decode::tile(Decoder &c) {
  Op &out = c.out;
  if (!c.rankedInput(2))
    return false;
  const Tensor &x = c.in(0);
  const int64_t rank = x.shape.size();
  if (!c.ints(1, rank))
    return false;
  std::vector<int64_t> shape = x.shape;
  for (int64_t d = 0; d < rank; ++d) {
    if (out.ints[d] < 1 || out.ints[d] > 1 << 16)
      return c.fail("multiples out of range");
    shape[d] *= out.ints[d];
  }
  return c.readsOnlyData(shape);
}

bool decode::padV2(Decoder &c) {
  Op &out = c.out;
  if (!c.rankedInput(3))
    return false;
  const Tensor &x = c.in(0), &value = c.in(2);
  const int64_t rank = x.shape.size();
  if (!c.ints(1, 2 * rank) || value.type != x.type || !value.data ||
      value.elements != 1)
    return c.fail("expected paddings and a constant value of the input's "
                  "type");
  if (x.isInt8() && (value.quant.scale != x.quant.scale ||
                     value.quant.zeroPoint != x.quant.zeroPoint))
    return c.fail("the INT8 value's scale and zero point must be the "
                  "input's");
  out.alpha = x.isInt8() ? float(value.i8()[0]) : value.f32()[0];
  std::vector<int64_t> shape = x.shape;
  for (int64_t d = 0; d < rank; ++d) {
    if (out.ints[2 * d] < 0 || out.ints[2 * d + 1] < 0 ||
        out.ints[2 * d] > 1 << 16 || out.ints[2 * d + 1] > 1 << 16)
      return c.fail("paddings out of range");
    shape[d] += out.ints[2 * d] + out.ints[2 * d + 1];
  }
  return c.readsOnlyData(shape);
}

bool decode::reduce(Decoder &c) {
  // SUM, REDUCE_MAX over one axis.
  Op &out = c.out;
  if (!c.rankedInput(2))
    return false;
  const Tensor &x = c.in(0);
  const int64_t rank = x.shape.size();
  if (!c.ints(1, 1))
    return false;
  int64_t axis = out.ints[0] < 0 ? out.ints[0] + rank : out.ints[0];
  if (axis < 0 || axis >= rank)
    return c.fail("axis out of range");
  out.axis = int(axis);
  std::vector<int64_t> shape = x.shape;
  shape[axis] = 1;
  const auto *o = c.op.builtin_options_as_ReducerOptions();
  if (!o || !o->keep_dims())
    shape.erase(shape.begin() + axis);
  return c.readsOnlyData(shape);
}
