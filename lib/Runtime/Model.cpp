//===- Model.cpp - load and validate a TFLite model -----------------------===//

#include "Model.h"

#include "mobileone/Runtime/Npy.h"

#include "mobileone/Support/Half.h"
#include "mobileone/Support/Limits.h"
#include "mobileone/Target/TFLite/schema_generated.h"

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace mobileone::runtime;

namespace {

constexpr int64_t kMaxElements = mlir::mobileone::kMaxTensorElements;
/// One pooling operator's work, at most (see the pool decoder): window
/// positions over all output pixels (XNNPACK keeps a pointer for each) and
/// reads over all outputs. A global pool over a 640x640 map is 409,600
/// positions; a 3x3 pool of 112x112x64 outputs is 7.2 M reads.
constexpr int64_t kMaxPoolWindowReads = int64_t(1) << 24;
constexpr int64_t kMaxPoolReads = int64_t(1) << 28;
/// All activations together (1 GiB of floats): a bound on what a model file
/// can make the runtime allocate.
constexpr int64_t kMaxActivationElements = int64_t(1) << 28;

class Loader {
public:
  Loader(Model &m, std::string &error) : m(m), error(error) {}
  bool run();

private:
  bool fail(const std::string &msg) {
    error = msg;
    return false;
  }
  bool failOp(size_t index, const std::string &name, const std::string &msg) {
    return fail("operator #" + std::to_string(index) + " (" + name +
                "): " + msg);
  }
  bool loadTensors(const tflite::SubGraph &g, const tflite::Model &model);
  bool loadQuantization(const tflite::Tensor &t, Tensor &out,
                        const std::string &what);
  bool loadOp(size_t index, const tflite::Operator &op,
              const tflite::Model &model);
  static std::string shapeStr(const std::vector<int64_t> &s) {
    return shapeText(s);
  }

  Model &m;
  std::string &error;
};

bool Loader::loadTensors(const tflite::SubGraph &g,
                         const tflite::Model &model) {
  const auto *tensors = g.tensors();
  const auto *buffers = model.buffers();
  if (!tensors || tensors->size() == 0)
    return fail("the subgraph has no tensors");
  for (uint32_t i = 0; i < tensors->size(); ++i) {
    const tflite::Tensor *t = tensors->Get(i);
    Tensor out;
    out.name = t->name() ? t->name()->str() : "#" + std::to_string(i);
    std::string what = "tensor #" + std::to_string(i) + " '" + out.name + "'";
    switch (t->type()) {
    case tflite::TensorType_FLOAT32:
      out.type = ElementType::Float32;
      break;
    case tflite::TensorType_INT32:
      out.type = ElementType::Int32;
      break;
    case tflite::TensorType_FLOAT16:
      out.type = ElementType::Float16;
      break;
    case tflite::TensorType_INT8:
      out.type = ElementType::Int8;
      break;
    default:
      return fail(what + " has type " + tflite::EnumNameTensorType(t->type()) +
                  "; only FLOAT32 and INT8 (INT32 shapes and biases, FLOAT16 "
                  "weights) are supported");
    }
    out.elements = 1;
    if (t->shape())
      for (int32_t d : *t->shape()) {
        // An INT32 tensor may be empty: RESHAPE's new_shape of a scalar.
        if (d < 0 || (d == 0 && !out.isInt32()))
          return fail(what + " has a non-positive dimension " +
                      std::to_string(d));
        out.shape.push_back(d);
        out.elements *= d;
        if (out.elements > kMaxElements)
          return fail(what + " has more than " +
                      mlir::mobileone::kMaxTensorElementsText + " elements");
      }
    if (t->buffer() != 0) {
      if (!buffers || t->buffer() >= buffers->size())
        return fail(what + " refers to buffer " + std::to_string(t->buffer()) +
                    ", the model has " +
                    std::to_string(buffers ? buffers->size() : 0));
      const tflite::Buffer *b = buffers->Get(t->buffer());
      if (b->data() && b->data()->size() > 0) {
        size_t width = out.elementBytes();
        size_t expected = out.bytes();
        if (b->data()->size() != expected)
          return fail(what + " of shape " + shapeStr(out.shape) + " needs " +
                      std::to_string(expected) + " bytes, its buffer has " +
                      std::to_string(b->data()->size()));
        if (reinterpret_cast<uintptr_t>(b->data()->data()) % width != 0)
          return fail(what + ": buffer data is not " + std::to_string(width) +
                      "-byte aligned");
        out.data = b->data()->data();
      }
    }
    if (!loadQuantization(*t, out, what))
      return false;
    m.tensors.push_back(std::move(out));
  }
  return true;
}

bool Loader::loadQuantization(const tflite::Tensor &t, Tensor &out,
                              const std::string &what) {
  const tflite::QuantizationParameters *q = t.quantization();
  const auto *scale = q ? q->scale() : nullptr;
  const auto *zero = q ? q->zero_point() : nullptr;
  const bool present = scale && scale->size() > 0;
  if (!present) {
    if (out.isInt8())
      return fail(what + " is INT8 without quantisation parameters (scale "
                         "and zero point)");
    return true; // a float, or a plain INT32 shape
  }
  if (!out.isInt8() && !out.isInt32())
    return true; // min/max or scales on a float tensor: informative only
  if (q->details_type() != tflite::QuantizationDetails_NONE)
    return fail(what + " has custom quantisation details; only affine "
                       "quantisation is supported");
  if (!zero || zero->size() != scale->size())
    return fail(what + " has " + std::to_string(scale->size()) +
                " scales and " + std::to_string(zero ? zero->size() : 0) +
                " zero points; expected as many of each");
  const int64_t rank = int64_t(out.shape.size());
  if (scale->size() > 1) {
    int64_t axis = q->quantized_dimension();
    if (axis < 0 || axis >= rank)
      return fail(what + ": quantized_dimension " + std::to_string(axis) +
                  " is out of range for rank " + std::to_string(rank));
    if (int64_t(scale->size()) != out.shape[axis])
      return fail(what + " has " + std::to_string(scale->size()) +
                  " scales for the " + std::to_string(out.shape[axis]) +
                  " slices of dimension " + std::to_string(axis));
    out.quant.axis = int(axis);
  }
  const int64_t lo = out.isInt8() ? -128 : 0, hi = out.isInt8() ? 127 : 0;
  for (uint32_t i = 0; i < scale->size(); ++i) {
    float s = scale->Get(i);
    int64_t z = zero->Get(i);
    // Scales far from 1 would overflow the fixed-point multipliers derived
    // from them; 2^-40 .. 2^40 spans every real model by far.
    if (!(s > 0.0f) || !std::isfinite(s) || s < 0x1p-40f || s > 0x1p40f)
      return fail(what + " has scale " + numberText(s) + " at slice " +
                  std::to_string(i) +
                  "; expected a finite value in [2^-40, 2^40]");
    if (z < lo || z > hi)
      return fail(what + " has zero point " + std::to_string(z) +
                  " at slice " + std::to_string(i) + "; expected " +
                  (out.isInt8() ? "[-128, 127]" : "0 (an int32 bias)"));
    out.quant.scale.push_back(s);
    out.quant.zeroPoint.push_back(int32_t(z));
  }
  return true;
}

bool Loader::loadOp(size_t index, const tflite::Operator &op,
                    const tflite::Model &model) {
  const auto *codes = model.operator_codes();
  if (!codes || op.opcode_index() >= codes->size())
    return fail("operator #" + std::to_string(index) +
                " has an invalid opcode index " +
                std::to_string(op.opcode_index()));
  const tflite::OperatorCode *code = codes->Get(op.opcode_index());
  int32_t builtin =
      std::max<int32_t>(code->builtin_code(), code->deprecated_builtin_code());
  std::string name = (builtin >= 0 && builtin <= tflite::BuiltinOperator_MAX)
                         ? tflite::EnumNameBuiltinOperator(
                               static_cast<tflite::BuiltinOperator>(builtin))
                         : "";
  if (name.empty())
    name = "builtin " + std::to_string(builtin);
  if (code->custom_code())
    return failOp(index, "custom " + code->custom_code()->str(),
                  "custom operators are not supported");

  Op out;
  out.opName = name;
  auto checkIndices = [&](const flatbuffers::Vector<int32_t> *v,
                          std::vector<int> &dst, const char *what) {
    if (!v)
      return true;
    for (int32_t t : *v) {
      if (t == -1 &&
          ((dst.size() == 2 &&
            (builtin == tflite::BuiltinOperator_CONV_2D ||
             builtin == tflite::BuiltinOperator_DEPTHWISE_CONV_2D ||
             builtin == tflite::BuiltinOperator_FULLY_CONNECTED)) ||
           (dst.size() == 3 &&
            builtin == tflite::BuiltinOperator_TRANSPOSE_CONV)))
        continue; // an absent optional bias
      if (t < 0 || t >= int32_t(m.tensors.size()))
        return failOp(index, name,
                      std::string(what) + " tensor index " + std::to_string(t) +
                          " out of range");
      dst.push_back(t);
    }
    return true;
  };
  std::vector<int> outputs;
  if (!checkIndices(op.inputs(), out.inputs, "input") ||
      !checkIndices(op.outputs(), outputs, "output"))
    return false;
  if (outputs.size() != 1)
    return failOp(index, name, "expected one output");
  out.output = outputs[0];
  const Tensor &y = m.tensors[out.output];
  // INT32 activations are indices: ARG_MAX writes them, RESHAPE moves them.
  const bool indices = builtin == tflite::BuiltinOperator_ARG_MAX ||
                       (builtin == tflite::BuiltinOperator_RESHAPE &&
                        !out.inputs.empty() &&
                        m.tensors[out.inputs[0]].isInt32() &&
                        !m.tensors[out.inputs[0]].data);
  if (y.data || (y.isInt32() && !indices) || y.isFloat16())
    return failOp(index, name, "writes a constant, INT32 or FLOAT16 tensor");
  if (indices && !y.isInt32())
    return failOp(index, name, "expected an INT32 output");
  for (int t : out.inputs)
    if (m.tensors[t].isFloat16() &&
        builtin != tflite::BuiltinOperator_DEQUANTIZE)
      return failOp(index, name,
                    "reads FLOAT16 tensor '" + m.tensors[t].name +
                        "'; FLOAT16 weights must go through DEQUANTIZE");

  auto need = [&](size_t n) {
    if (out.inputs.size() != n)
      return failOp(index, name,
                    "expected " + std::to_string(n) + " inputs, got " +
                        std::to_string(out.inputs.size()));
    return true;
  };
  auto in = [&](size_t i) -> const Tensor & {
    return m.tensors[out.inputs[i]];
  };
  auto expectShape = [&](const Tensor &t, const std::vector<int64_t> &shape,
                         const char *what) {
    if (t.shape != shape)
      return failOp(index, name,
                    std::string(what) + " '" + t.name + "' has shape " +
                        shapeStr(t.shape) + ", expected " + shapeStr(shape));
    return true;
  };
  auto floatActivation = [&](const Tensor &t) {
    if (t.isInt32())
      return failOp(index, name, "tensor '" + t.name + "' must be FLOAT32");
    return true;
  };
  auto activation = [&](tflite::ActivationFunctionType a) {
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
      return failOp(index, name,
                    std::string("unsupported fused activation ") +
                        tflite::EnumNameActivationFunctionType(a));
    }
  };
  // NumPy broadcasting of two FLOAT32 operands of rank <= 4.
  auto broadcastShape = [&](const Tensor &a, const Tensor &b,
                            std::vector<int64_t> &shape) {
    if (!floatActivation(a) || !floatActivation(b) || a.shape.size() > 4 ||
        b.shape.size() > 4)
      return failOp(index, name, "expected FLOAT32 operands of rank <= 4");
    size_t rank = std::max(a.shape.size(), b.shape.size());
    shape.assign(rank, 0);
    for (size_t i = 0; i < rank; ++i) {
      int64_t da =
          i < rank - a.shape.size() ? 1 : a.shape[i - (rank - a.shape.size())];
      int64_t db =
          i < rank - b.shape.size() ? 1 : b.shape[i - (rank - b.shape.size())];
      if (da != db && da != 1 && db != 1)
        return failOp(index, name,
                      "operands " + shapeStr(a.shape) + " and " +
                          shapeStr(b.shape) + " do not broadcast");
      shape[i] = da == 1 ? db : da;
    }
    return true;
  };
  // SAME padding resolved to explicit pads, as TFLite defines it.
  auto resolvePadding = [&](tflite::Padding p, int64_t inH, int64_t inW,
                            int64_t &outH, int64_t &outW) {
    int64_t effH = int64_t(out.dilationH) * (out.kernelH - 1) + 1;
    int64_t effW = int64_t(out.dilationW) * (out.kernelW - 1) + 1;
    if (p == tflite::Padding_SAME) {
      outH = (inH + out.strideH - 1) / out.strideH;
      outW = (inW + out.strideW - 1) / out.strideW;
      int64_t th = std::max<int64_t>((outH - 1) * out.strideH + effH - inH, 0);
      int64_t tw = std::max<int64_t>((outW - 1) * out.strideW + effW - inW, 0);
      if (th > 1 << 16 || tw > 1 << 16)
        return failOp(index, name, "padding out of range");
      out.padTop = int(th / 2);
      out.padBottom = int(th - th / 2);
      out.padLeft = int(tw / 2);
      out.padRight = int(tw - tw / 2);
    } else {
      if (inH < effH || inW < effW)
        return failOp(index, name, "the kernel is larger than the input");
      outH = (inH - effH) / out.strideH + 1;
      outW = (inW - effW) / out.strideW + 1;
    }
    return true;
  };
  auto positive = [&](int v, const char *what) {
    if (v < 1 || v > 1 << 16)
      return failOp(index, name,
                    std::string(what) + " " + std::to_string(v) +
                        " out of range");
    return true;
  };

  switch (builtin) {
  case tflite::BuiltinOperator_CONV_2D:
  case tflite::BuiltinOperator_DEPTHWISE_CONV_2D: {
    bool depthwise = builtin == tflite::BuiltinOperator_DEPTHWISE_CONV_2D;
    out.kind = depthwise ? OpKind::DepthwiseConv : OpKind::Conv;
    if (out.inputs.size() != 3 && out.inputs.size() != 2)
      return failOp(index, name, "expected input, filter and bias");
    const Tensor &x = in(0), &w = in(1);
    if (!floatActivation(x) || x.data || x.shape.size() != 4)
      return failOp(index, name, "expected a 4-D FLOAT32 activation input");
    if (!w.data || !(w.isFloat32() || w.isInt8()) || w.shape.size() != 4)
      return failOp(index, name,
                    "expected a constant 4-D FLOAT32 (or INT8) filter");
    tflite::Padding padding;
    // Conv2DOptions and DepthwiseConv2DOptions share these fields.
    auto readOptions = [&](const auto *o, const char *what) {
      if (!o)
        return failOp(index, name, std::string("missing ") + what);
      out.strideH = o->stride_h(), out.strideW = o->stride_w();
      out.dilationH = o->dilation_h_factor();
      out.dilationW = o->dilation_w_factor();
      padding = o->padding();
      return activation(o->fused_activation_function());
    };
    if (depthwise) {
      if (!readOptions(op.builtin_options_as_DepthwiseConv2DOptions(),
                       "DepthwiseConv2DOptions"))
        return false;
      int64_t c = x.shape[3];
      if (w.shape[0] != 1 || w.shape[3] % c != 0)
        return failOp(index, name,
                      "filter " + shapeStr(w.shape) + " does not fit " +
                          std::to_string(c) + " input channels");
      out.depthMultiplier = int(w.shape[3] / c);
    } else {
      if (!readOptions(op.builtin_options_as_Conv2DOptions(), "Conv2DOptions"))
        return false;
      // A grouped convolution has a filter of [OC, KH, KW, C / groups].
      if (w.shape[3] < 1 || x.shape[3] % w.shape[3] != 0 ||
          w.shape[0] % (x.shape[3] / w.shape[3]) != 0)
        return failOp(index, name,
                      "filter " + shapeStr(w.shape) + " does not divide " +
                          std::to_string(x.shape[3]) +
                          " input channels into groups");
      out.groups = int(x.shape[3] / w.shape[3]);
    }
    if (!positive(out.strideH, "stride") || !positive(out.strideW, "stride") ||
        !positive(out.dilationH, "dilation") ||
        !positive(out.dilationW, "dilation"))
      return false;
    out.kernelH = int(w.shape[1]);
    out.kernelW = int(w.shape[2]);
    int64_t oc = depthwise ? w.shape[3] : w.shape[0];
    if (out.inputs.size() == 3) {
      const Tensor &b = in(2);
      if (!b.data || !(x.isInt8() ? b.isInt32() : b.isFloat32()) ||
          b.shape != std::vector<int64_t>{oc})
        return failOp(index, name,
                      std::string("expected a constant ") +
                          (x.isInt8() ? "INT32" : "FLOAT32") + " bias of [" +
                          std::to_string(oc) + "]");
    }
    int64_t oh, ow;
    if (!resolvePadding(padding, x.shape[1], x.shape[2], oh, ow))
      return false;
    return expectShape(y, {x.shape[0], oh, ow, oc}, "output") &&
           (m.ops.push_back(out), true);
  }
  case tflite::BuiltinOperator_TRANSPOSE_CONV: {
    // Inputs: output shape, filter [OC, KH, KW, C], input, optional bias.
    // Held as input, filter, bias like a convolution; padTop/padLeft crop
    // the full output's start (SAME), its end is cropped to the shape.
    out.kind = OpKind::TransposeConv;
    if (out.inputs.size() != 3 && out.inputs.size() != 4)
      return failOp(index, name, "expected output shape, filter, input and "
                                 "an optional bias");
    const Tensor &s = in(0), &w = in(1), &x = in(2);
    if (!s.data || !s.isInt32() || s.shape != std::vector<int64_t>{4})
      return failOp(index, name, "expected a constant INT32 output shape of "
                                 "4 entries");
    if (!floatActivation(x) || x.data || x.isInt8() || x.shape.size() != 4)
      return failOp(index, name, "expected a 4-D FLOAT32 activation input");
    if (!w.data || !w.isFloat32() || w.shape.size() != 4 ||
        w.shape[3] != x.shape[3])
      return failOp(index, name,
                    "expected a constant FLOAT32 filter [OC, KH, KW, " +
                        std::to_string(x.shape[3]) + "]");
    const int64_t oc = w.shape[0];
    if (out.inputs.size() == 4) {
      const Tensor &b = in(3);
      if (!b.data || !b.isFloat32() || b.shape != std::vector<int64_t>{oc})
        return failOp(index, name, "expected a constant FLOAT32 bias of [" +
                                       std::to_string(oc) + "]");
    }
    const auto *o = op.builtin_options_as_TransposeConvOptions();
    if (!o)
      return failOp(index, name, "missing TransposeConvOptions");
    out.strideH = o->stride_h(), out.strideW = o->stride_w();
    if (!positive(out.strideH, "stride") || !positive(out.strideW, "stride") ||
        !activation(o->fused_activation_function()))
      return false;
    out.kernelH = int(w.shape[1]);
    out.kernelW = int(w.shape[2]);
    const int32_t *shape = s.i32();
    std::vector<int64_t> want(shape, shape + 4);
    if (want[0] != x.shape[0] || want[3] != oc || want[1] < 1 ||
        want[2] < 1 || want[1] > 1 << 16 || want[2] > 1 << 16)
      return failOp(index, name, "output shape " + shapeStr(want) +
                                     " does not fit input " +
                                     shapeStr(x.shape) + " and filter " +
                                     shapeStr(w.shape));
    if (o->padding() == tflite::Padding_SAME) {
      // TFLite pads as for the convolution from the output to the input.
      int64_t th = std::max<int64_t>(
          (x.shape[1] - 1) * out.strideH + out.kernelH - want[1], 0);
      int64_t tw = std::max<int64_t>(
          (x.shape[2] - 1) * out.strideW + out.kernelW - want[2], 0);
      out.padTop = int(th / 2);
      out.padLeft = int(tw / 2);
    }
    out.inputs = out.inputs.size() == 4
                     ? std::vector<int>{out.inputs[2], out.inputs[1],
                                        out.inputs[3]}
                     : std::vector<int>{out.inputs[2], out.inputs[1]};
    return expectShape(y, want, "output") && (m.ops.push_back(out), true);
  }
  case tflite::BuiltinOperator_RESIZE_NEAREST_NEIGHBOR:
  case tflite::BuiltinOperator_RESIZE_BILINEAR: {
    const bool nearest =
        builtin == tflite::BuiltinOperator_RESIZE_NEAREST_NEIGHBOR;
    out.kind = nearest ? OpKind::ResizeNearest : OpKind::ResizeBilinear;
    if (!need(2))
      return false;
    const Tensor &x = in(0), &s = in(1);
    if (!floatActivation(x) || x.data || x.shape.size() != 4)
      return failOp(index, name, "expected a 4-D activation input");
    if (!s.data || !s.isInt32() || s.shape != std::vector<int64_t>{2} ||
        s.i32()[0] < 1 || s.i32()[1] < 1 || s.i32()[0] > 1 << 16 ||
        s.i32()[1] > 1 << 16)
      return failOp(index, name, "expected a constant INT32 size [2] of "
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
      return failOp(index, name, "align_corners and half_pixel_centers "
                                 "cannot both be set");
    out.inputs.resize(1);
    return expectShape(y, {x.shape[0], s.i32()[0], s.i32()[1], x.shape[3]},
                       "output") &&
           (m.ops.push_back(out), true);
  }
  case tflite::BuiltinOperator_ARG_MAX: {
    // Indices of the maximum along one axis, INT32 (the first on ties).
    out.kind = OpKind::ArgMax;
    if (!need(2))
      return false;
    const Tensor &x = in(0), &a = in(1);
    if (!floatActivation(x) || x.data || x.isInt8() || x.shape.empty() ||
        x.shape.size() > 6)
      return failOp(index, name, "expected a FLOAT32 activation input of "
                                 "rank 1 to 6");
    if (!a.data || !a.isInt32() || a.elements != 1)
      return failOp(index, name, "expected a constant INT32 axis");
    int64_t axis = a.i32()[0];
    if (axis < 0)
      axis += int64_t(x.shape.size());
    if (axis < 0 || axis >= int64_t(x.shape.size()) || x.shape[axis] < 1)
      return failOp(index, name, "axis " + std::to_string(a.i32()[0]) +
                                     " out of range for " + shapeStr(x.shape));
    const auto *o = op.builtin_options_as_ArgMaxOptions();
    if (o && o->output_type() != tflite::TensorType_INT32)
      return failOp(index, name, "only INT32 indices are supported");
    out.axis = int(axis);
    std::vector<int64_t> shape = x.shape;
    shape.erase(shape.begin() + axis);
    out.inputs.resize(1);
    return expectShape(y, shape, "output") && (m.ops.push_back(out), true);
  }
  case tflite::BuiltinOperator_PAD: {
    if (!need(2))
      return false;
    const Tensor &x = in(0), &p = in(1);
    const int64_t rank = x.shape.size();
    if (!floatActivation(x) || rank == 0 || rank > 6 || !p.data || !p.isInt32() ||
        p.shape != std::vector<int64_t>{rank, 2})
      return failOp(index, name,
                    "expected a FLOAT32 input of rank 1 to 6 and constant "
                    "INT32 paddings [rank, 2]");
    const int32_t *v = p.i32();
    if (std::any_of(v, v + 2 * rank,
                    [](int32_t a) { return a < 0 || a > 1 << 16; }))
      return failOp(index, name, "paddings must be in [0, 65536]");
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
    return expectShape(y, shape, "output") && (m.ops.push_back(out), true);
  }
  case tflite::BuiltinOperator_AVERAGE_POOL_2D:
  case tflite::BuiltinOperator_MAX_POOL_2D: {
    out.kind = builtin == tflite::BuiltinOperator_MAX_POOL_2D
                   ? OpKind::MaxPool
                   : OpKind::AveragePool;
    if (!need(1))
      return false;
    const Tensor &x = in(0);
    const auto *o = op.builtin_options_as_Pool2DOptions();
    if (!floatActivation(x) || x.shape.size() != 4 || !o)
      return failOp(index, name, "expected a 4-D input and Pool2DOptions");
    out.strideH = o->stride_h(), out.strideW = o->stride_w();
    out.kernelH = o->filter_height(), out.kernelW = o->filter_width();
    if (!positive(out.strideH, "stride") || !positive(out.strideW, "stride") ||
        !positive(out.kernelH, "filter") || !positive(out.kernelW, "filter") ||
        !activation(o->fused_activation_function()))
      return false;
    int64_t oh, ow;
    if (!resolvePadding(o->padding(), x.shape[1], x.shape[2], oh, ow))
      return false;
    // The work of a pool does not grow with the file: a 400-byte model with
    // a 65536 x 65536 SAME window would keep a runtime busy for hours
    // (found by fuzz-tflite-run). Real pools read a few reads per output.
    const int64_t windowReads =
        x.shape[0] * oh * ow * int64_t(out.kernelH) * out.kernelW;
    if (windowReads > kMaxPoolWindowReads ||
        windowReads * x.shape[3] > kMaxPoolReads)
      return failOp(index, name,
                    "a " + std::to_string(out.kernelH) + "x" +
                        std::to_string(out.kernelW) + " window over " +
                        shapeStr({x.shape[0], oh, ow, x.shape[3]}) +
                        " outputs needs more than 2^24 window positions or "
                        "2^28 reads; refusing");
    return expectShape(y, {x.shape[0], oh, ow, x.shape[3]}, "output") &&
           (m.ops.push_back(out), true);
  }
  case tflite::BuiltinOperator_MEAN: {
    out.kind = OpKind::Mean;
    if (!need(2))
      return false;
    const Tensor &x = in(0), &axes = in(1);
    if (!floatActivation(x) || x.shape.size() != 4 || !axes.data ||
        !axes.isInt32() || axes.elements != 2 ||
        !((axes.i32()[0] == 1 && axes.i32()[1] == 2) ||
          (axes.i32()[0] == 2 && axes.i32()[1] == 1)))
      return failOp(index, name,
                    "only MEAN over axes [1, 2] of a 4-D input "
                    "is supported");
    std::vector<int64_t> keep = {x.shape[0], 1, 1, x.shape[3]};
    std::vector<int64_t> drop = {x.shape[0], x.shape[3]};
    if (y.shape != keep && y.shape != drop)
      return failOp(index, name,
                    "unexpected output shape " + shapeStr(y.shape));
    m.ops.push_back(out);
    return true;
  }
  case tflite::BuiltinOperator_FULLY_CONNECTED: {
    out.kind = OpKind::FullyConnected;
    if (out.inputs.size() != 3 && out.inputs.size() != 2)
      return failOp(index, name, "expected input, weights and bias");
    const Tensor &x = in(0), &w = in(1);
    const auto *o = op.builtin_options_as_FullyConnectedOptions();
    if (o && !activation(o->fused_activation_function()))
      return false;
    if (!floatActivation(x) || x.shape.empty() || !w.data ||
        !(w.isFloat32() || w.isInt8()) || w.shape.size() != 2 ||
        x.shape.back() != w.shape[1])
      return failOp(index, name,
                    "expected constant weights [M, K] with K "
                    "the input's last dimension");
    if (out.inputs.size() == 3 &&
        (!in(2).data || !(x.isInt8() ? in(2).isInt32() : in(2).isFloat32()) ||
         in(2).shape != std::vector<int64_t>{w.shape[0]}))
      return failOp(index, name,
                    "expected a constant bias of [" +
                        std::to_string(w.shape[0]) + "]");
    return expectShape(y, {x.elements / w.shape[1], w.shape[0]}, "output") &&
           (m.ops.push_back(out), true);
  }
  case tflite::BuiltinOperator_DEQUANTIZE: {
    // TFLite's float16 weights: widened once, here; the output becomes a
    // float32 constant and no operator runs.
    if (!need(1))
      return false;
    const Tensor &x = in(0);
    if (x.isInt8() && !x.data) {
      // An int8 activation back to float32: an operator.
      out.kind = OpKind::Dequantize;
      return expectShape(y, x.shape, "output") && (m.ops.push_back(out), true);
    }
    if (!x.isFloat16() || !x.data)
      return failOp(index, name, "expected a constant FLOAT16 input or an "
                                 "INT8 activation");
    if (!expectShape(y, x.shape, "output"))
      return false;
    std::vector<float> &w = m.widened.emplace_back(size_t(x.elements));
    const uint16_t *h = static_cast<const uint16_t *>(x.data);
    for (int64_t i = 0; i < x.elements; ++i) {
      w[i] = mlir::mobileone::fromHalf(h[i]);
      if (!std::isfinite(w[i]))
        return failOp(index, name,
                      "FLOAT16 weight '" + x.name + "' holds " +
                          (std::isnan(w[i]) ? "NaN" : "Inf") + " at element " +
                          std::to_string(i));
    }
    m.tensors[out.output].data = w.data();
    return true;
  }
  case tflite::BuiltinOperator_QUANTIZE: {
    out.kind = OpKind::Quantize;
    if (!need(1))
      return false;
    return expectShape(y, in(0).shape, "output") &&
           (m.ops.push_back(out), true);
  }
  case tflite::BuiltinOperator_RESHAPE: {
    out.kind = OpKind::Reshape;
    // A constant input too: the copy the compiler writes for a graph output
    // that is a constant.
    // INT32 indices (ARG_MAX's) move too; INT32 constants are shapes.
    if (out.inputs.empty() || out.inputs.size() > 2 ||
        (in(0).isInt32() && (in(0).data || !y.isInt32())))
      return failOp(index, name, "expected a FLOAT32 input (or INT32 indices)");
    if (y.elements != in(0).elements)
      return failOp(index, name,
                    "cannot reshape " + shapeStr(in(0).shape) + " to " +
                        shapeStr(y.shape));
    out.inputs.resize(1); // the shape is the output tensor's
    m.ops.push_back(out);
    return true;
  }
  case tflite::BuiltinOperator_ADD:
  case tflite::BuiltinOperator_MUL:
  case tflite::BuiltinOperator_SUB:
  case tflite::BuiltinOperator_DIV:
  case tflite::BuiltinOperator_MAXIMUM:
  case tflite::BuiltinOperator_MINIMUM:
  case tflite::BuiltinOperator_POW: {
    out.kind = builtin == tflite::BuiltinOperator_ADD       ? OpKind::Add
               : builtin == tflite::BuiltinOperator_MUL     ? OpKind::Mul
               : builtin == tflite::BuiltinOperator_SUB     ? OpKind::Sub
               : builtin == tflite::BuiltinOperator_DIV     ? OpKind::Div
               : builtin == tflite::BuiltinOperator_MAXIMUM ? OpKind::Maximum
               : builtin == tflite::BuiltinOperator_MINIMUM ? OpKind::Minimum
                                                            : OpKind::Pow;
    if (!need(2))
      return false;
    if (const auto *o = op.builtin_options_as_AddOptions())
      if (!activation(o->fused_activation_function()))
        return false;
    if (const auto *o = op.builtin_options_as_MulOptions())
      if (!activation(o->fused_activation_function()))
        return false;
    if (const auto *o = op.builtin_options_as_SubOptions())
      if (!activation(o->fused_activation_function()))
        return false;
    if (const auto *o = op.builtin_options_as_DivOptions())
      if (!activation(o->fused_activation_function()))
        return false;
    std::vector<int64_t> shape;
    if (!broadcastShape(in(0), in(1), shape))
      return false;
    return expectShape(y, shape, "output") && (m.ops.push_back(out), true);
  }
  case tflite::BuiltinOperator_LOGISTIC:
  case tflite::BuiltinOperator_RELU:
  case tflite::BuiltinOperator_RELU6:
  case tflite::BuiltinOperator_GELU:
  case tflite::BuiltinOperator_HARD_SWISH:
  case tflite::BuiltinOperator_LEAKY_RELU:
  case tflite::BuiltinOperator_RELU_N1_TO_1:
  case tflite::BuiltinOperator_TANH:
  case tflite::BuiltinOperator_EXP:
  case tflite::BuiltinOperator_NEG:
  case tflite::BuiltinOperator_SQRT:
  case tflite::BuiltinOperator_RSQRT:
  case tflite::BuiltinOperator_SOFTMAX: {
    switch (builtin) {
    case tflite::BuiltinOperator_LOGISTIC:
      out.kind = OpKind::Logistic;
      break;
    case tflite::BuiltinOperator_RELU:
      out.kind = OpKind::Relu;
      break;
    case tflite::BuiltinOperator_RELU6:
      out.kind = OpKind::Relu6;
      break;
    case tflite::BuiltinOperator_GELU:
      out.kind = OpKind::Gelu;
      if (const auto *o = op.builtin_options_as_GeluOptions())
        out.approximate = o->approximate();
      break;
    case tflite::BuiltinOperator_HARD_SWISH:
      out.kind = OpKind::HardSwish;
      break;
    case tflite::BuiltinOperator_LEAKY_RELU:
      out.kind = OpKind::LeakyRelu;
      if (const auto *o = op.builtin_options_as_LeakyReluOptions())
        out.alpha = o->alpha();
      break;
    case tflite::BuiltinOperator_RELU_N1_TO_1:
      out.kind = OpKind::ReluN1To1;
      break;
    case tflite::BuiltinOperator_TANH:
      out.kind = OpKind::Tanh;
      break;
    case tflite::BuiltinOperator_EXP:
      out.kind = OpKind::Exp;
      break;
    case tflite::BuiltinOperator_NEG:
      out.kind = OpKind::Neg;
      break;
    case tflite::BuiltinOperator_SQRT:
      out.kind = OpKind::Sqrt;
      break;
    case tflite::BuiltinOperator_RSQRT:
      out.kind = OpKind::Rsqrt;
      break;
    default:
      out.kind = OpKind::Softmax;
      if (const auto *o = op.builtin_options_as_SoftmaxOptions();
          o && o->beta() != 1.0f)
        return failOp(index, name, "only beta = 1 is supported");
      break;
    }
    if (!need(1) || !floatActivation(in(0)) || in(0).shape.empty())
      return failOp(index, name, "expected one FLOAT32 input");
    return expectShape(y, in(0).shape, "output") &&
           (m.ops.push_back(out), true);
  }
  case tflite::BuiltinOperator_CONCATENATION: {
    out.kind = OpKind::Concatenation;
    const auto *o = op.builtin_options_as_ConcatenationOptions();
    if (out.inputs.empty() || !o)
      return failOp(index, name, "expected inputs and ConcatenationOptions");
    if (!activation(o->fused_activation_function()))
      return false;
    const std::vector<int64_t> &first = in(0).shape;
    int64_t rank = first.size(),
            axis = o->axis() < 0 ? o->axis() + rank : o->axis();
    if (axis < 0 || axis >= rank)
      return failOp(index, name, "axis out of range");
    out.axis = int(axis);
    std::vector<int64_t> shape = first;
    shape[axis] = 0;
    for (size_t i = 0; i < out.inputs.size(); ++i) {
      const Tensor &t = in(i);
      if (!floatActivation(t) || int64_t(t.shape.size()) != rank)
        return failOp(index, name, "inputs of different ranks");
      for (int64_t d = 0; d < rank; ++d)
        if (d != axis && t.shape[d] != first[d])
          return failOp(index, name, "inputs differ off the axis");
      shape[axis] += t.shape[axis];
    }
    return expectShape(y, shape, "output") && (m.ops.push_back(out), true);
  }
  case tflite::BuiltinOperator_SLICE:
  case tflite::BuiltinOperator_TRANSPOSE:
  case tflite::BuiltinOperator_TILE:
  case tflite::BuiltinOperator_PADV2:
  case tflite::BuiltinOperator_SUM:
  case tflite::BuiltinOperator_REDUCE_MAX: {
    bool slice = builtin == tflite::BuiltinOperator_SLICE;
    bool padv2 = builtin == tflite::BuiltinOperator_PADV2;
    out.kind = slice ? OpKind::Slice
               : builtin == tflite::BuiltinOperator_TRANSPOSE
                   ? OpKind::Transpose
               : builtin == tflite::BuiltinOperator_TILE ? OpKind::Tile
               : padv2                                   ? OpKind::PadV2
               : builtin == tflite::BuiltinOperator_SUM  ? OpKind::Sum
                                                         : OpKind::ReduceMax;
    if (!need(slice || padv2 ? 3 : 2))
      return false;
    const Tensor &x = in(0);
    int64_t rank = x.shape.size();
    if (!floatActivation(x) || rank == 0 || rank > 6)
      return failOp(index, name, "expected a FLOAT32 input of rank 1 to 6");
    auto ints = [&](size_t i, int64_t count) {
      const Tensor &t = in(i);
      if (!t.data || !t.isInt32() || t.elements != count)
        return failOp(index, name,
                      "operand #" + std::to_string(i) +
                          " must be a constant "
                          "INT32 tensor of " +
                          std::to_string(count) + " values");
      out.ints.insert(out.ints.end(), t.i32(), t.i32() + count);
      return true;
    };
    std::vector<int64_t> shape = x.shape;
    switch (out.kind) {
    case OpKind::Slice:
      if (!ints(1, rank) || !ints(2, rank))
        return false;
      for (int64_t d = 0; d < rank; ++d) {
        int64_t b = out.ints[d], &n = out.ints[rank + d];
        if (n == -1)
          n = x.shape[d] - b;
        if (b < 0 || n < 0 || b + n > x.shape[d])
          return failOp(index, name, "slice out of range");
        shape[d] = n;
      }
      break;
    case OpKind::Transpose: {
      if (!ints(1, rank))
        return false;
      std::vector<bool> seen(rank, false);
      for (int64_t d = 0; d < rank; ++d) {
        int64_t p = out.ints[d];
        if (p < 0 || p >= rank || seen[p])
          return failOp(index, name, "perm is not a permutation");
        seen[p] = true;
        shape[d] = x.shape[p];
      }
      break;
    }
    case OpKind::Tile:
      if (!ints(1, rank))
        return false;
      for (int64_t d = 0; d < rank; ++d) {
        if (out.ints[d] < 1 || out.ints[d] > 1 << 16)
          return failOp(index, name, "multiples out of range");
        shape[d] *= out.ints[d];
      }
      break;
    case OpKind::PadV2:
      if (!ints(1, 2 * rank) || in(2).type != x.type || !in(2).data ||
          in(2).elements != 1)
        return failOp(index, name, "expected paddings and a constant value "
                                   "of the input's type");
      if (x.isInt8() && (in(2).quant.scale != x.quant.scale ||
                         in(2).quant.zeroPoint != x.quant.zeroPoint))
        return failOp(index, name, "the INT8 value's scale and zero point "
                                   "must be the input's");
      out.alpha = x.isInt8() ? float(in(2).i8()[0]) : in(2).f32()[0];
      for (int64_t d = 0; d < rank; ++d) {
        if (out.ints[2 * d] < 0 || out.ints[2 * d + 1] < 0 ||
            out.ints[2 * d] > 1 << 16 || out.ints[2 * d + 1] > 1 << 16)
          return failOp(index, name, "paddings out of range");
        shape[d] += out.ints[2 * d] + out.ints[2 * d + 1];
      }
      break;
    default: { // SUM, REDUCE_MAX over one axis
      const auto *o = op.builtin_options_as_ReducerOptions();
      if (!ints(1, 1))
        return false;
      int64_t axis = out.ints[0] < 0 ? out.ints[0] + rank : out.ints[0];
      if (axis < 0 || axis >= rank)
        return failOp(index, name, "axis out of range");
      out.axis = int(axis);
      shape[axis] = 1;
      if (!o || !o->keep_dims())
        shape.erase(shape.begin() + axis);
      break;
    }
    }
    out.inputs.resize(1);
    return expectShape(y, shape, "output") && (m.ops.push_back(out), true);
  }
  case tflite::BuiltinOperator_BATCH_MATMUL: {
    out.kind = OpKind::BatchMatMul;
    if (!need(2))
      return false;
    const Tensor &a = in(0), &b = in(1);
    const auto *o = op.builtin_options_as_BatchMatMulOptions();
    if ((o && (o->adj_x() || o->adj_y())) || a.shape.size() != 3 ||
        b.shape.size() != 3 || a.shape[0] != b.shape[0] ||
        a.shape[2] != b.shape[1] || !floatActivation(a) || !floatActivation(b))
      return failOp(index, name,
                    "expected [B, M, K] x [B, K, N] without adjoints");
    // Both operands may be activations: the work does not grow with the
    // file. 2^34 multiply-adds is over 10x a ViT's attention at 640 x 640.
    if (a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2] >
        (int64_t(1) << 34))
      return failOp(index, name,
                    "[B, M, K] x [B, K, N] = " + shapeStr(a.shape) + " x " +
                        shapeStr(b.shape) +
                        " needs more than 2^34 multiply-adds; refusing");
    return expectShape(y, {a.shape[0], a.shape[1], b.shape[2]}, "output") &&
           (m.ops.push_back(out), true);
  }
  default:
    return failOp(index, name,
                  "unsupported operator; supported: ADD, AVERAGE_POOL_2D, "
                  "BATCH_MATMUL, CONCATENATION, CONV_2D (grouped too), "
                  "DEPTHWISE_CONV_2D, DIV, EXP, FULLY_CONNECTED, GELU, "
                  "HARD_SWISH, LEAKY_RELU, LOGISTIC, MAXIMUM, MAX_POOL_2D, "
                  "MEAN, MINIMUM, MUL, NEG, PAD, PADV2, POW, QUANTIZE, "
                  "REDUCE_MAX, RELU, RELU6, RELU_N1_TO_1, RESHAPE, ARG_MAX, "
                  "RESIZE_BILINEAR, RESIZE_NEAREST_NEIGHBOR, RSQRT, SLICE, "
                  "SOFTMAX, SQRT, SUB, SUM, TANH, TILE, TRANSPOSE, "
                  "TRANSPOSE_CONV");
  }
}

bool Loader::run() {
  const uint8_t *data = m.data;
  size_t size = m.size;
  if (size < 8)
    return fail("the file is too small to be a TFLite model (" +
                std::to_string(size) + " bytes)");
  if (!tflite::ModelBufferHasIdentifier(data))
    return fail("not a TFLite model: the FlatBuffer identifier is not TFL3");
  flatbuffers::Verifier verifier(data, size, /*max_depth=*/64,
                                 /*max_tables=*/10000000);
  if (!tflite::VerifyModelBuffer(verifier))
    return fail("the FlatBuffer does not verify (corrupt or truncated file)");
  const tflite::Model *model = tflite::GetModel(data);
  if (model->version() != 3)
    return fail("unsupported schema version " +
                std::to_string(model->version()) + ", expected 3");
  if (!model->subgraphs() || model->subgraphs()->size() != 1)
    return fail("expected exactly one subgraph");
  const tflite::SubGraph &g = *model->subgraphs()->Get(0);
  m.nhwcInterface = !model->description() ||
                    model->description()->str() != kNCHWInterfaceDescription;
  if (!loadTensors(g, *model))
    return false;
  if (!g.inputs() || g.inputs()->size() == 0 || !g.outputs() ||
      g.outputs()->size() == 0)
    return fail("expected at least one graph input and one graph output");
  for (bool isInput : {true, false}) {
    const char *what = isInput ? "graph input" : "graph output";
    for (int32_t t : isInput ? *g.inputs() : *g.outputs()) {
      std::string which = std::string(what) + " " + std::to_string(t);
      if (t < 0 || t >= int(m.tensors.size()))
        return fail(which + " is not a tensor index");
      const Tensor &x = m.tensors[t];
      // Outputs may be INT32 indices (ARG_MAX's, checked with the
      // operator that writes them); inputs are FLOAT32 or, for an int8
      // model's int8 interface, INT8 per tensor (each reader checks it
      // takes int8).
      if ((x.isInt32() && isInput) || x.data || x.isFloat16())
        return fail(which + " '" + x.name +
                    "' is not a FLOAT32 or INT8 activation (a constant, "
                    "INT32 or FLOAT16)");
      if (x.isInt8() && x.quant.perAxis())
        return fail(which + " '" + x.name +
                    "' is INT8 with per-axis parameters; an interface "
                    "tensor has one scale and zero point");
      std::vector<int> &list = isInput ? m.inputs : m.outputs;
      if (std::count(m.inputs.begin(), m.inputs.end(), t) ||
          std::count(list.begin(), list.end(), t))
        return fail(which + " '" + x.name +
                    "' is listed twice (or is also an input): an output "
                    "must be computed by its own operator");
      list.push_back(t);
    }
  }

  std::vector<bool> defined(m.tensors.size(), false);
  for (size_t i = 0; i < m.tensors.size(); ++i)
    defined[i] = m.tensors[i].data != nullptr;
  for (int t : m.inputs)
    defined[t] = true;
  if (!g.operators() || g.operators()->size() == 0)
    return fail("the subgraph has no operators");
  for (uint32_t i = 0; i < g.operators()->size(); ++i) {
    size_t before = m.ops.size();
    if (!loadOp(i, *g.operators()->Get(i), *model))
      return false;
    if (m.ops.size() == before) {
      // Folded into a constant (DEQUANTIZE): defined from now on, and not
      // a graph output (outputs are computed).
      for (int32_t t : *g.operators()->Get(i)->outputs()) {
        if (m.isOutput(t))
          return failOp(i, "DEQUANTIZE", "writes a graph output");
        defined[t] = true;
      }
      continue;
    }
    Op &op = m.ops.back();
    if (isQuantizedOp(m, op)) {
      std::string why;
      if (!prepareQuantizedOp(m, op, why))
        return failOp(i, op.opName, why);
    }
    for (int t : op.inputs)
      if (!defined[t])
        return failOp(i, op.opName,
                      "reads tensor '" + m.tensors[t].name +
                          "' before it is computed");
    if (defined[op.output])
      return failOp(i, op.opName,
                    "writes tensor '" + m.tensors[op.output].name +
                        "', which already has a value");
    defined[op.output] = true;
  }
  for (int t : m.outputs)
    if (!defined[t])
      return fail("no operator computes the graph output '" +
                  m.tensors[t].name + "'");
  int64_t activations = 0;
  for (int t : m.inputs)
    activations += m.tensors[t].elements;
  for (const Op &op : m.ops) {
    activations += m.tensors[op.output].elements;
    if (activations > kMaxActivationElements)
      return fail("the activations need more than 2^28 floats (1 GiB); "
                  "refusing to allocate them");
  }
  auto info = [&](int t) {
    const Tensor &x = m.tensors[t];
    TensorInfo i{x.name, x.shape};
    i.dtype = x.isInt32() ? DType::Int32
              : x.isInt8() ? DType::Int8
                           : DType::Float32;
    if (x.isInt8()) {
      i.scale = x.quant.scale[0];
      i.zeroPoint = x.quant.zeroPoint[0];
    }
    return i;
  };
  for (int t : m.inputs)
    m.inputInfos.push_back(info(t));
  for (int t : m.outputs)
    m.outputInfos.push_back(info(t));
  return true;
}

/// Folds a PAD whose only reader is a convolution into the convolution's
/// own (explicit) padding: one pass over the largest activations less. The
/// same for the PADV2 of H and W with -FLT_MAX (or less) that the compiler
/// writes before a max pool whose padding TFLite's SAME cannot express:
/// the pool's own padding is left out of each window's max, the same result
/// where each window keeps a real element (all padding of a side, the
/// pool's own included, narrower than the window) and no real element is
/// below -FLT_MAX (the padded map comes from an op clamped to a finite
/// minimum, e.g. a fused ReLU; a NaN still makes its window NaN). ResNet's
/// 114x114x64 PADV2: 0.24 ms less on one thread.
void fusePads(Model &m) {
  std::vector<int> readers(m.tensors.size(), 0);
  for (const Op &op : m.ops)
    for (int t : op.inputs)
      ++readers[t];
  std::vector<int> producer(m.tensors.size(), -1);
  for (size_t i = 0; i < m.ops.size(); ++i)
    producer[m.ops[i].output] = int(i);
  std::vector<bool> dead(m.ops.size(), false);
  for (Op &op : m.ops) {
    const bool pool = op.kind == OpKind::MaxPool;
    if (!pool && op.kind != OpKind::Conv && op.kind != OpKind::DepthwiseConv)
      continue;
    int p = producer[op.inputs[0]];
    if (p < 0 || readers[op.inputs[0]] != 1 || m.isOutput(op.inputs[0]))
      continue;
    const Op &pad = m.ops[p];
    const std::vector<int64_t> &v = pad.ints;
    int64_t add[4]; // top, bottom, left, right
    if (!pool && pad.kind == OpKind::Pad) {
      add[0] = pad.padTop, add[1] = pad.padBottom;
      add[2] = pad.padLeft, add[3] = pad.padRight;
    } else if (pool && pad.kind == OpKind::PadV2 && v.size() == 8 && !v[0] &&
               !v[1] && !v[6] && !v[7]) {
      int source = producer[pad.inputs[0]];
      if (!(pad.alpha <= -std::numeric_limits<float>::max()) ||
          op.padTop + v[2] >= op.kernelH || op.padBottom + v[3] >= op.kernelH ||
          op.padLeft + v[4] >= op.kernelW || op.padRight + v[5] >= op.kernelW ||
          source < 0 ||
          !(m.ops[source].outMin > -std::numeric_limits<float>::max()))
        continue;
      std::copy(v.begin() + 2, v.begin() + 6, add);
    } else {
      continue;
    }
    op.padTop += int(add[0]);
    op.padBottom += int(add[1]);
    op.padLeft += int(add[2]);
    op.padRight += int(add[3]);
    op.inputs[0] = pad.inputs[0];
    dead[p] = true;
  }
  std::vector<Op> kept;
  for (size_t i = 0; i < m.ops.size(); ++i)
    if (!dead[i])
      kept.push_back(std::move(m.ops[i]));
  m.ops = std::move(kept);
}

} // namespace

Model::~Model() {
  if (mapping)
    munmap(mapping, size);
}

void Model::releasePages(int tensor) const {
  const Tensor &t = tensors[tensor];
  if (!mapping || !t.data)
    return;
  long page = sysconf(_SC_PAGESIZE);
  uintptr_t begin = reinterpret_cast<uintptr_t>(t.data);
  uintptr_t end = begin + size_t(t.elements) * 4;
  // Only pages of the file mapping: widened FLOAT16 weights live on the
  // heap, where MADV_DONTNEED would zero them.
  uintptr_t fileBegin = reinterpret_cast<uintptr_t>(data);
  if (begin < fileBegin || end > fileBegin + size)
    return;
  begin = (begin + page - 1) / page * page; // whole pages inside the tensor
  end = end / page * page;
  if (end > begin)
    madvise(reinterpret_cast<void *>(begin), end - begin, MADV_DONTNEED);
}

std::unique_ptr<Model> Model::load(std::vector<uint8_t> bytes,
                                   std::string &error) {
  auto m = std::make_unique<Model>();
  m->owned = std::move(bytes);
  m->data = m->owned.data();
  m->size = m->owned.size();
  if (!Loader(*m, error).run())
    return nullptr;
  fusePads(*m);
  return m;
}

std::unique_ptr<Model> Model::loadView(const uint8_t *data, size_t size,
                                       std::string &error) {
  auto m = std::make_unique<Model>();
  m->data = data;
  m->size = size;
  if (!Loader(*m, error).run())
    return nullptr;
  fusePads(*m);
  return m;
}

std::unique_ptr<Model> Model::loadFile(const std::string &path,
                                       std::string &error) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot open '" + path + "': " + std::strerror(errno);
    return nullptr;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      st.st_size > (off_t(1) << 31)) {
    close(fd);
    error = "'" + path + "' is not a regular file of at most 2 GiB";
    return nullptr;
  }
  auto m = std::make_unique<Model>();
  m->size = size_t(st.st_size);
  if (m->size > 0) {
    void *p = mmap(nullptr, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      close(fd);
      error = "cannot map '" + path + "': " + std::strerror(errno);
      return nullptr;
    }
    m->mapping = p;
    m->data = static_cast<const uint8_t *>(p);
  }
  close(fd);
  if (!Loader(*m, error).run())
    return nullptr;
  fusePads(*m);
  return m;
}
