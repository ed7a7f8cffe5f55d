//===- Int8ToTosa.cpp - an int8 .tflite as TOSA integer arithmetic --------===//
//
// The model is loaded by the runtime's loader (Runtime/Model.h): every
// index, shape and quantisation parameter validated, and each operator's
// requantisation (multipliers, shifts, zero points, clamps, tables) derived
// once, as the runtime's int8 kernels use it. Each int8 operator then
// becomes TOSA integer arithmetic that upstream MLIR lowers on its own:
//
//   CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED: tosa.conv2d /
//     depthwise_conv2d / fully_connected of int8 with the input's zero
//     point (quantization_info; padding reads it), int32 biases and
//     accumulators, tosa.rescale per output channel, tosa.clamp for the
//     fused activation;
//   ADD, SUB: each input rescaled to int32 (x 2^20, then its multiplier
//     onto twice the larger input scale), added, rescaled to int8;
//   MUL: (a - za) x (b - zb) in int32, rescaled; MEAN: tosa.reduce_sum of
//     (x - z) over height and width, rescaled once;
//   AVERAGE_POOL_2D: the window sums as a depthwise convolution by ones,
//     divided by the in-bounds count rounding half away from zero
//     (tosa.int_div truncates), as TFLite does;
//   MAX_POOL_2D, CONCATENATION, RESHAPE, PAD, PADV2, SLICE, TRANSPOSE,
//     TILE, MAXIMUM, MINIMUM: their TOSA operators on int8; a requantising
//     QUANTIZE (int8 -> int8): tosa.rescale; RESIZE_NEAREST_NEIGHBOR:
//     tosa.gather of the pixels the runtime reads;
//   functions of one int8 input (LOGISTIC, HARD_SWISH, GELU, ...):
//     tosa.table with the runtime's 256-entry table.
//
// TFLite's requantisation (TFLITE_SINGLE_ROUNDING: the exact product of the
// accumulator and the Q31 multiplier, rounded once half up, shifted right by
// 31 - shift) is tosa.rescale with double_round = false exactly, so the
// module computes the integers the runtime's reference kernels compute.
//
//===----------------------------------------------------------------------===//

#include "mobileone/Conversion/Int8ToTosa.h"
#include "mobileone/Target/ONNX.h"

#include "../../Runtime/Model.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

#include <algorithm>
#include <set>

using namespace mlir;
using namespace mlir::mobileone;
namespace rt = ::mobileone::runtime;
using rt::OpKind;

namespace {

class Lowering {
public:
  Lowering(MLIRContext *context, const rt::Model &model)
      : b(context), loc(UnknownLoc::get(context)), model(model),
        values(model.tensors.size()) {}

  OwningOpRef<ModuleOp> run(std::string &error);

private:
  OpBuilder b;
  Location loc;
  const rt::Model &model;
  /// The TOSA value of each tensor (by index) once computed.
  std::vector<Value> values;
  std::string error;

  bool fail(const std::string &message) {
    if (error.empty())
      error = message;
    return false;
  }
  bool lower(size_t index, const rt::Op &op);
  const rt::Tensor &tensor(int i) const { return model.tensors[i]; }
  /// Operand i of `op`: its computed value, or its constant (made once).
  Value in(const rt::Op &op, size_t i) {
    const int t = op.inputs[i];
    const rt::Tensor &x = tensor(t);
    if (!values[t] && x.data && x.isInt8())
      values[t] = constant(x.shape, i8(),
                           ArrayRef<int8_t>(x.i8(), size_t(x.elements)));
    return values[t];
  }

  // --- builders ---
  Type i8() { return b.getIntegerType(8); }
  Type i32() { return b.getIntegerType(32); }
  RankedTensorType type(ArrayRef<int64_t> shape, Type element) {
    return RankedTensorType::get(shape, element);
  }
  static ArrayRef<int64_t> shapeOf(Value v) {
    return cast<RankedTensorType>(v.getType()).getShape();
  }
  template <typename T>
  Value constant(ArrayRef<int64_t> shape, Type element, ArrayRef<T> data) {
    auto t = type(shape, element);
    return b.create<tosa::ConstOp>(loc, t, DenseElementsAttr::get(t, data));
  }
  Value constantI32(ArrayRef<int64_t> shape, ArrayRef<int32_t> data) {
    return constant(shape, i32(), data);
  }
  Value reshape(Value v, ArrayRef<int64_t> shape) {
    if (shapeOf(v) == shape)
      return v;
    auto element = cast<RankedTensorType>(v.getType()).getElementType();
    return b.create<tosa::ReshapeOp>(loc, type(shape, element), v,
                                     b.getDenseI64ArrayAttr(shape));
  }
  /// NumPy's rank lifting (leading 1s): TOSA broadcasts equal ranks only.
  Value lift(Value v, size_t rank) {
    ArrayRef<int64_t> s = shapeOf(v);
    if (s.size() >= rank)
      return v;
    SmallVector<int64_t> shape(rank - s.size(), 1);
    llvm::append_range(shape, s);
    return reshape(v, shape);
  }
  /// An element-wise binary op of two tensors of one element type, NumPy
  /// broadcast to `out`.
  template <typename OpTy, typename... Extra>
  Value binary(Value x, Value y, ArrayRef<int64_t> out, Extra... extra) {
    auto element = cast<RankedTensorType>(x.getType()).getElementType();
    return b.create<OpTy>(loc, type(out, element), lift(x, out.size()),
                          lift(y, out.size()), extra...);
  }
  /// tosa.rescale of `v` to `element`: (v - inZero) x multiplier / 2^(31 -
  /// shift) rounded half up, + outZero, saturated: TFLite's
  /// MultiplyByQuantizedMultiplier for each (multiplier, shift) of the
  /// runtime (one, or one per channel of the last dimension). A shift
  /// TOSA cannot take is an error (the lowering stops after this operator).
  Value rescale(Value v, Type element, int32_t inZero, int32_t outZero,
                ArrayRef<int32_t> multipliers, ArrayRef<int> shifts) {
    SmallVector<int8_t> tosaShifts;
    for (int s : shifts) {
      int total = 31 - s;
      if (total < 2 || total > 62)
        fail("a requantisation shift of " + std::to_string(s) +
             " is outside TOSA's rescale range (31 - shift in [2, 62])");
      tosaShifts.push_back(int8_t(std::clamp(total, 2, 62)));
    }
    return Value(b.create<tosa::RescaleOp>(
        loc, type(shapeOf(v), element), v, b.getI32IntegerAttr(inZero),
        b.getI32IntegerAttr(outZero), b.getDenseI32ArrayAttr(multipliers),
        b.getDenseI8ArrayAttr(tosaShifts), b.getBoolAttr(true),
        b.getBoolAttr(false), b.getBoolAttr(multipliers.size() > 1)));
  }
  /// q - zero as int32 (an exact rescale by one).
  Value widen(Value v, int32_t zero) {
    return rescale(v, i32(), zero, 0, {int32_t(1) << 30}, {1});
  }
  /// The fused activation's clamp (none for the whole int8 range).
  Value clamp(Value v, int32_t lo, int32_t hi) {
    if (lo <= -128 && hi >= 127)
      return v;
    return b.create<tosa::ClampOp>(
        loc, v.getType(), v, b.getI64IntegerAttr(lo), b.getI64IntegerAttr(hi),
        b.getF32FloatAttr(float(lo)), b.getF32FloatAttr(float(hi)));
  }
  /// The int32 accumulator `acc` of `op` requantised to its int8 output.
  Value requantize(Value acc, const rt::Op &op) {
    const rt::QuantizedParams &q = op.quant;
    return clamp(rescale(acc, i8(), 0, q.outputZero, q.multiplier, q.shift),
                 q.activationMin, q.activationMax);
  }
  Value zeroBias(int64_t channels) {
    return constantI32({channels}, ArrayRef<int32_t>(
                                       std::vector<int32_t>(channels, 0)));
  }
  template <typename ConvOp>
  Value setZeroPoint(ConvOp conv, int32_t inputZero) {
    conv.setQuantizationInfoAttr(
        tosa::ConvOpQuantizationAttr::get(b.getContext(), inputZero, 0));
    return conv;
  }

  bool lowerConvolution(const rt::Op &op);
  bool lowerAveragePool(const rt::Op &op);
};

bool Lowering::lowerConvolution(const rt::Op &op) {
  const rt::Tensor &x = tensor(op.inputs[0]), &w = tensor(op.inputs[1]),
                   &y = tensor(op.output);
  const rt::QuantizedParams &q = op.quant;
  const int64_t oc = y.shape.back();
  Value bias = op.inputs.size() > 2
                   ? constantI32({oc}, ArrayRef<int32_t>(
                                           tensor(op.inputs[2]).i32(), oc))
                   : zeroBias(oc);
  ArrayRef<int8_t> filter(w.i8(), size_t(w.elements));
  Value acc;
  if (op.kind == OpKind::FullyConnected) {
    const int64_t k = w.shape[1], rows = x.elements / k;
    auto fc = b.create<tosa::FullyConnectedOp>(
        loc, type({rows, oc}, i32()), reshape(in(op, 0), {rows, k}),
        constant({oc, k}, i8(), filter), bias);
    acc = setZeroPoint(fc, q.inputZero[0]);
  } else {
    auto pad = b.getDenseI64ArrayAttr(
        {op.padTop, op.padBottom, op.padLeft, op.padRight});
    auto stride = b.getDenseI64ArrayAttr({op.strideH, op.strideW});
    auto dilation = b.getDenseI64ArrayAttr({op.dilationH, op.dilationW});
    auto accType = type({y.shape[0], y.shape[1], y.shape[2], oc}, i32());
    if (op.kind == OpKind::DepthwiseConv) {
      // TFLite's [1, KH, KW, C x M] is TOSA's [KH, KW, C, M], byte for byte.
      Value weight = constant(
          {w.shape[1], w.shape[2], x.shape[3], op.depthMultiplier}, i8(),
          filter);
      acc = setZeroPoint(b.create<tosa::DepthwiseConv2DOp>(
                             loc, accType, in(op, 0), weight, bias, pad,
                             stride, dilation),
                         q.inputZero[0]);
    } else if (op.groups == 1) {
      acc = setZeroPoint(
          b.create<tosa::Conv2DOp>(loc, accType, in(op, 0),
                                   constant(w.shape, i8(), filter), bias, pad,
                                   stride, dilation),
          q.inputZero[0]);
    } else {
      // Grouped: one convolution per group on its channel slice.
      const int64_t icg = w.shape[3], ocg = oc / op.groups;
      const int64_t perGroup = ocg * w.shape[1] * w.shape[2] * icg;
      ArrayRef<int64_t> xs = x.shape;
      ArrayRef<int32_t> allBias =
          op.inputs.size() > 2
              ? ArrayRef<int32_t>(tensor(op.inputs[2]).i32(), oc)
              : ArrayRef<int32_t>();
      SmallVector<Value> parts;
      for (int64_t g = 0; g < op.groups; ++g) {
        Value slice = b.create<tosa::SliceOp>(
            loc, type({xs[0], xs[1], xs[2], icg}, i8()), in(op, 0),
            b.getDenseI64ArrayAttr({0, 0, 0, g * icg}),
            b.getDenseI64ArrayAttr({xs[0], xs[1], xs[2], icg}));
        Value groupBias = allBias.empty()
                              ? zeroBias(ocg)
                              : constantI32({ocg}, allBias.slice(g * ocg, ocg));
        parts.push_back(setZeroPoint(
            b.create<tosa::Conv2DOp>(
                loc, type({y.shape[0], y.shape[1], y.shape[2], ocg}, i32()),
                slice,
                constant({ocg, w.shape[1], w.shape[2], icg}, i8(),
                         filter.slice(g * perGroup, perGroup)),
                groupBias, pad, stride, dilation),
            q.inputZero[0]));
      }
      acc = b.create<tosa::ConcatOp>(loc, accType, parts,
                                     b.getI32IntegerAttr(3));
    }
  }
  values[op.output] = reshape(requantize(acc, op), y.shape);
  return error.empty();
}

bool Lowering::lowerAveragePool(const rt::Op &op) {
  const rt::Tensor &x = tensor(op.inputs[0]), &y = tensor(op.output);
  const int64_t c = x.shape[3], oh = y.shape[1], ow = y.shape[2];
  // The sum of each window's in-bounds values (padding adds zeros).
  Value ones = constant(
      {op.kernelH, op.kernelW, c, 1}, i8(),
      ArrayRef<int8_t>(std::vector<int8_t>(op.kernelH * op.kernelW * c, 1)));
  Value sum = setZeroPoint(
      b.create<tosa::DepthwiseConv2DOp>(
          loc, type(y.shape, i32()), in(op, 0), ones, zeroBias(c),
          b.getDenseI64ArrayAttr(
              {op.padTop, op.padBottom, op.padLeft, op.padRight}),
          b.getDenseI64ArrayAttr({op.strideH, op.strideW}),
          b.getDenseI64ArrayAttr({1, 1})),
      0);
  // The in-bounds count of each window, and half of it.
  std::vector<int32_t> count, half;
  for (int64_t r = 0; r < oh; ++r)
    for (int64_t p = 0; p < ow; ++p) {
      auto inside = [](int64_t start, int64_t k, int64_t size) {
        int64_t n = 0;
        for (int64_t i = start; i < start + k; ++i)
          n += i >= 0 && i < size;
        return n;
      };
      int64_t n = inside(r * op.strideH - op.padTop, op.kernelH, x.shape[1]) *
                  inside(p * op.strideW - op.padLeft, op.kernelW, x.shape[2]);
      if (n == 0)
        return fail("a pooling window that lies wholly in the padding has "
                    "no average");
      count.push_back(int32_t(n));
      half.push_back(int32_t(n / 2));
    }
  Value counts = constantI32({1, oh, ow, 1}, count);
  Value halves = constantI32({1, oh, ow, 1}, half);
  // (sum + half) / count above zero, (sum - half) / count otherwise:
  // half away from zero, as TFLite rounds the average.
  Value zero = constantI32({1, 1, 1, 1}, {0});
  auto boolType = type(y.shape, b.getI1Type());
  Value positive = b.create<tosa::GreaterOp>(loc, boolType, sum, zero);
  Value rounded = b.create<tosa::SelectOp>(
      loc, sum.getType(), positive,
      binary<tosa::AddOp>(sum, halves, y.shape),
      binary<tosa::SubOp>(sum, halves, y.shape));
  Value average = binary<tosa::IntDivOp>(rounded, counts, y.shape);
  average = b.create<tosa::ClampOp>(
      loc, average.getType(), average,
      b.getI64IntegerAttr(op.quant.activationMin),
      b.getI64IntegerAttr(op.quant.activationMax),
      b.getF32FloatAttr(float(op.quant.activationMin)),
      b.getF32FloatAttr(float(op.quant.activationMax)));
  values[op.output] =
      b.create<tosa::CastOp>(loc, type(y.shape, i8()), average);
  return true;
}

bool Lowering::lower(size_t index, const rt::Op &op) {
  const rt::Tensor &y = tensor(op.output);
  const rt::QuantizedParams &q = op.quant;
  auto yType = type(y.shape, i8());
  auto where = "operator #" + std::to_string(index) + " (" + op.opName +
               ", output '" + y.name + "')";
  if (!op.quantized)
    return fail(where + " runs in float32; quantised TOSA lowers int8 "
                        "operators only");
  if (op.kind == OpKind::Dequantize ||
      (op.kind == OpKind::Quantize && !tensor(op.inputs[0]).isInt8()))
    return fail(where + " converts between float32 and int8 inside the "
                        "model; quantised TOSA lowers int8 operators only");
  // The int8 data operands (the rest are filters, biases, shapes, axes
  // and paddings, read where they are used).
  const size_t data = op.kind == OpKind::Concatenation ? op.inputs.size()
                      : op.kind == OpKind::Add || op.kind == OpKind::Sub ||
                              op.kind == OpKind::Mul ||
                              op.kind == OpKind::Maximum ||
                              op.kind == OpKind::Minimum
                          ? 2
                          : 1;
  for (size_t i = 0; i < data && i < op.inputs.size(); ++i) {
    const rt::Tensor &x = tensor(op.inputs[i]);
    if (!in(op, i))
      return fail(where + " reads '" + x.name + "', a " +
                  (x.isInt8() ? "tensor no int8 operator computes"
                              : "non-int8 tensor") +
                  "; quantised TOSA lowers int8 operators only");
  }
  Value result;
  switch (op.kind) {
  case OpKind::Conv:
  case OpKind::DepthwiseConv:
  case OpKind::FullyConnected:
    return lowerConvolution(op);
  case OpKind::AveragePool:
    return lowerAveragePool(op);
  case OpKind::Add:
  case OpKind::Sub: {
    Value sides[2];
    for (int i = 0; i < 2; ++i) {
      // (q - z) x 2^20, then onto the common scale.
      Value shifted = rescale(in(op, i), i32(), q.inputZero[i], 0,
                              {int32_t(1) << 30}, {21});
      sides[i] = rescale(shifted, i32(), 0, 0, {q.inputMultiplier[i]},
                         {q.inputShift[i]});
    }
    Value sum = op.kind == OpKind::Add
                    ? binary<tosa::AddOp>(sides[0], sides[1], y.shape)
                    : binary<tosa::SubOp>(sides[0], sides[1], y.shape);
    result = requantize(sum, op);
    break;
  }
  case OpKind::Mul: {
    Value product =
        binary<tosa::MulOp>(widen(in(op, 0), q.inputZero[0]),
                            widen(in(op, 1), q.inputZero[1]), y.shape,
                            b.getI8IntegerAttr(0));
    result = requantize(product, op);
    break;
  }
  case OpKind::Mean: {
    ArrayRef<int64_t> xs = tensor(op.inputs[0]).shape;
    Value sum = widen(in(op, 0), q.inputZero[0]);
    sum = b.create<tosa::ReduceSumOp>(loc, type({xs[0], 1, xs[2], xs[3]}, i32()),
                                      sum, b.getI32IntegerAttr(1));
    sum = b.create<tosa::ReduceSumOp>(loc, type({xs[0], 1, 1, xs[3]}, i32()),
                                      sum, b.getI32IntegerAttr(2));
    result = reshape(requantize(sum, op), y.shape);
    break;
  }
  case OpKind::MaxPool:
    result = clamp(
        b.create<tosa::MaxPool2dOp>(
            loc, yType, in(op, 0),
            b.getDenseI64ArrayAttr({op.kernelH, op.kernelW}),
            b.getDenseI64ArrayAttr({op.strideH, op.strideW}),
            b.getDenseI64ArrayAttr(
                {op.padTop, op.padBottom, op.padLeft, op.padRight})),
        q.activationMin, q.activationMax);
    break;
  case OpKind::Concatenation: {
    SmallVector<Value> parts;
    for (size_t i = 0; i < op.inputs.size(); ++i)
      parts.push_back(in(op, i));
    result = clamp(b.create<tosa::ConcatOp>(loc, yType, parts,
                                            b.getI32IntegerAttr(op.axis)),
                   q.activationMin, q.activationMax);
    break;
  }
  case OpKind::Reshape:
    result = reshape(in(op, 0), y.shape);
    break;
  case OpKind::Pad:
  case OpKind::PadV2: {
    const rt::Tensor &x = tensor(op.inputs[0]);
    const int64_t rank = int64_t(x.shape.size());
    SmallVector<int64_t> pads;
    for (int64_t d = 0; d < rank; ++d) {
      int64_t before = op.kind == OpKind::PadV2 ? op.ints[2 * d]
                       : d == 1                 ? op.padTop
                       : d == 2                 ? op.padLeft
                                                : 0;
      pads.append({before, y.shape[d] - x.shape[d] - before});
    }
    auto padType = type({rank, 2}, b.getI64Type());
    Value paddings = b.create<tosa::ConstOp>(
        loc, padType, DenseElementsAttr::get(padType, ArrayRef<int64_t>(pads)));
    Value value = constant({}, i8(), ArrayRef<int8_t>{int8_t(q.value)});
    result = b.create<tosa::PadOp>(loc, yType, in(op, 0), paddings, value);
    break;
  }
  case OpKind::Slice: {
    const size_t rank = y.shape.size();
    SmallVector<int64_t> start(op.ints.begin(), op.ints.begin() + rank);
    result = b.create<tosa::SliceOp>(loc, yType, in(op, 0),
                                     b.getDenseI64ArrayAttr(start),
                                     b.getDenseI64ArrayAttr(y.shape));
    break;
  }
  case OpKind::Transpose: {
    SmallVector<int32_t> perm(op.ints.begin(), op.ints.end());
    result = b.create<tosa::TransposeOp>(
        loc, yType, in(op, 0),
        constantI32({int64_t(perm.size())}, perm));
    break;
  }
  case OpKind::Tile:
    result = b.create<tosa::TileOp>(loc, yType, in(op, 0),
                                    b.getDenseI64ArrayAttr(op.ints));
    break;
  case OpKind::ResizeNearest: {
    // A gather of the source pixels the runtime reads, flattened to
    // [N, H x W, C].
    ArrayRef<int64_t> xs = tensor(op.inputs[0]).shape;
    const int64_t n = xs[0], oh = y.shape[1], ow = y.shape[2], c = xs[3];
    std::vector<int64_t> rows = rt::nearestSources(op, xs[1], oh),
                         cols = rt::nearestSources(op, xs[2], ow);
    std::vector<int32_t> pixels;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t r : rows)
        for (int64_t q : cols)
          pixels.push_back(int32_t(r * xs[2] + q));
    Value gathered = b.create<tosa::GatherOp>(
        loc, type({n, oh * ow, c}, i8()),
        reshape(in(op, 0), {n, xs[1] * xs[2], c}),
        constantI32({n, oh * ow}, pixels));
    result = reshape(gathered, y.shape);
    break;
  }
  case OpKind::Maximum:
    result = binary<tosa::MaximumOp>(in(op, 0), in(op, 1), y.shape);
    break;
  case OpKind::Minimum:
    result = binary<tosa::MinimumOp>(in(op, 0), in(op, 1), y.shape);
    break;
  case OpKind::Quantize: {
    // int8 -> int8: a requantisation.
    result = rescale(in(op, 0), i8(), q.inputZero[0], q.outputZero,
                     q.multiplier, q.shift);
    break;
  }
  default:
    if (q.table.size() != 256)
      return fail(where + " has no TOSA int8 lowering here (int8 TOSA takes "
                          "ADD, AVERAGE_POOL_2D, CONCATENATION, CONV_2D, "
                          "DEPTHWISE_CONV_2D, FULLY_CONNECTED, MAXIMUM, "
                          "MAX_POOL_2D, MEAN, MINIMUM, MUL, PAD, PADV2, "
                          "QUANTIZE, RESHAPE, RESIZE_NEAREST_NEIGHBOR, "
                          "SLICE, SUB, TILE, TRANSPOSE "
                          "and functions of one input)");
    result = b.create<tosa::TableOp>(
        loc, yType, in(op, 0),
        constant({256}, i8(), ArrayRef<int8_t>(q.table)));
    break;
  }
  values[op.output] = result;
  return error.empty();
}

OwningOpRef<ModuleOp> Lowering::run(std::string &errorOut) {
  MLIRContext *context = b.getContext();
  context->loadDialect<func::FuncDialect, tosa::TosaDialect>();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());

  // The interface: a float32 input read by one QUANTIZE is that QUANTIZE's
  // int8 output; a float32 output written by a DEQUANTIZE is its int8
  // input.
  std::vector<std::vector<size_t>> readers(model.tensors.size());
  std::vector<int> writer(model.tensors.size(), -1);
  for (size_t i = 0; i < model.ops.size(); ++i) {
    for (int t : model.ops[i].inputs)
      readers[t].push_back(i);
    writer[model.ops[i].output] = int(i);
  }
  // A float32 island (an operator without an int8 form, between a
  // DEQUANTIZE and a QUANTIZE) is named by its float operator.
  for (size_t i = 0; i < model.ops.size(); ++i) {
    const rt::Op &op = model.ops[i];
    const bool interface =
        (op.kind == OpKind::Quantize &&
         llvm::is_contained(model.inputs, op.inputs[0])) ||
        (op.kind == OpKind::Dequantize && model.isOutput(op.output));
    if (!interface && !op.quantized) {
      errorOut = "operator #" + std::to_string(i) + " (" + op.opName +
                 ", output '" + tensor(op.output).name +
                 "') has no int8 form and runs in float32 in the int8 "
                 ".tflite; quantised TOSA lowers int8 operators only";
      return nullptr;
    }
  }
  std::set<size_t> interfaceOps;
  SmallVector<Type> argTypes, resultTypes;
  SmallVector<int> argTensors, resultTensors; // the int8 tensors
  for (int t : model.inputs) {
    const rt::Tensor &x = tensor(t);
    int q = t;
    if (!x.isInt8()) {
      const std::vector<size_t> &r = readers[t];
      if (r.size() != 1 || model.ops[r[0]].kind != OpKind::Quantize) {
        errorOut = "input '" + x.name +
                   "' is read by float32 operators; quantised TOSA needs "
                   "it quantised once, at the interface";
        return nullptr;
      }
      interfaceOps.insert(r[0]);
      q = model.ops[r[0]].output;
    }
    argTensors.push_back(q);
    argTypes.push_back(type(tensor(q).shape, i8()));
  }
  for (int t : model.outputs) {
    const rt::Tensor &y = tensor(t);
    int q = t;
    if (!y.isInt8()) {
      int w = writer[t];
      if (w < 0 || model.ops[w].kind != OpKind::Dequantize) {
        errorOut = "output '" + y.name +
                   "' is computed in float32; quantised TOSA needs every "
                   "output in int8";
        return nullptr;
      }
      interfaceOps.insert(size_t(w));
      q = model.ops[w].inputs[0];
    }
    resultTensors.push_back(q);
    resultTypes.push_back(type(tensor(q).shape, i8()));
  }

  auto func = b.create<func::FuncOp>(
      loc, "main", b.getFunctionType(argTypes, resultTypes));
  auto describe = [&](auto set, unsigned i, int interfaceTensor, int q) {
    const rt::Tensor &t = tensor(q);
    set(i, kONNXNameAttr, b.getStringAttr(tensor(interfaceTensor).name));
    set(i, kQuantScaleAttr, b.getF32FloatAttr(t.quant.scale[0]));
    set(i, kQuantZeroPointAttr, b.getI32IntegerAttr(t.quant.zeroPoint[0]));
  };
  Block *body = func.addEntryBlock();
  for (auto [i, q] : llvm::enumerate(argTensors)) {
    values[q] = body->getArgument(i);
    describe([&](unsigned n, StringRef name,
                 Attribute a) { func.setArgAttr(n, name, a); },
             i, model.inputs[i], q);
  }
  for (auto [i, q] : llvm::enumerate(resultTensors))
    describe([&](unsigned n, StringRef name,
                 Attribute a) { func.setResultAttr(n, name, a); },
             i, model.outputs[i], q);

  b.setInsertionPointToStart(body);
  for (size_t i = 0; i < model.ops.size(); ++i) {
    if (interfaceOps.count(i))
      continue;
    loc = NameLoc::get(b.getStringAttr(tensor(model.ops[i].output).name));
    if (!lower(i, model.ops[i])) {
      errorOut = error;
      return nullptr;
    }
  }
  loc = UnknownLoc::get(context);
  SmallVector<Value> results;
  for (int q : resultTensors)
    results.push_back(values[q]);
  b.create<func::ReturnOp>(loc, results);
  return module;
}

} // namespace

OwningOpRef<ModuleOp>
mlir::mobileone::lowerInt8TFLiteToTosa(MLIRContext *context,
                                       ArrayRef<uint8_t> bytes,
                                       std::string &error) {
  std::unique_ptr<rt::Model> model = rt::Model::load(
      std::vector<uint8_t>(bytes.begin(), bytes.end()), error);
  if (!model) {
    error = "the int8 model does not load: " + error;
    return nullptr;
  }
  return Lowering(context, *model).run(error);
}
