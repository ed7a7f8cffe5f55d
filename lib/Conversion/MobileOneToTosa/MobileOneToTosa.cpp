//===- MobileOneToTosa.cpp - lower deploy-time modules to TOSA ------------===//
//
// The one lowering path of every target, a DialectConversion
// (populateMobileOneToTosaPatterns): one conversion pattern per op of the
// dialect, each rewriting it (`Lowering::lower`) into TOSA ops computing the
// same logical (NCHW) tensor, and a ConversionTarget whose legality says
// what a target keeps. Ops with a layout (convolutions, pooling) are wrapped in
// explicit transposes to NHWC and back, and the decompositions a target
// lacks (squeeze-excite, left-over batch norm, GELU, hard sigmoid/swish,
// softmax, layer norm, division, grouped convolution) are written out here,
// once. A cleanup (LayoutCleanup.cpp) then sinks and cancels the transposes,
// so a chain of convolutions is NHWC throughout.
//
// `target=tflite` keeps the element-wise ops TFLite has as builtins (GELU,
// HARD_SWISH, LEAKY_RELU, SQRT, and SOFTMAX on the last axis) as mobileone
// ops among the TOSA ones, for the TFLite emitter to map one-to-one: they
// are legal for that target (`keptForTFLite`).
//
//===----------------------------------------------------------------------===//

#include "mobileone/Conversion/Passes.h"
#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Math/Resize.h"
#include "mobileone/Support/Layout.h"
#include "mobileone/Support/Weights.h"
#include "mobileone/Transforms/BranchKernels.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <limits>

namespace mlir::mobileone {
#define GEN_PASS_DEF_CONVERTMOBILEONETOTOSA
#include "mobileone/Conversion/Passes.h.inc"
} // namespace mlir::mobileone

using namespace mlir;
using namespace mlir::mobileone;

namespace {

constexpr float kFloatMax = std::numeric_limits<float>::max();

/// `v` (a ranked tensor) transposed by `perm`.
Value buildTranspose(OpBuilder &b, Location loc, Value v,
                     ArrayRef<int64_t> perm) {
  auto type = cast<RankedTensorType>(v.getType());
  auto permType = RankedTensorType::get({int64_t(perm.size())}, b.getI32Type());
  SmallVector<int32_t> p(perm.begin(), perm.end());
  Value perms = b.create<tosa::ConstOp>(
      loc, permType, DenseElementsAttr::get(permType, ArrayRef<int32_t>(p)));
  return b.create<tosa::TransposeOp>(
      loc, type.clone(permuteShape(type.getShape(), perm)), v, perms);
}

/// Whether `op` stays a mobileone op for the TFLite emitter: the builtins
/// TFLite has for it.
bool keptForTFLite(Operation &op) {
  if (auto softmax = dyn_cast<SoftmaxOp>(op)) {
    int64_t rank = cast<RankedTensorType>(softmax.getType()).getRank();
    return softmax.getAxis() == rank - 1 || softmax.getAxis() == -1;
  }
  return isa<GeluOp, HardSwishOp, LeakyReluOp, SqrtOp>(op);
}

/// The TOSA ops of one mobileone op, built with the conversion's rewriter.
class Lowering {
public:
  Lowering(OpBuilder &b, bool forTFLite) : b(b), forTFLite(forTFLite) {}

  /// The op's replacement values (same types as its results), or failure
  /// with an error at the op.
  FailureOr<SmallVector<Value>> lower(Operation &op);

private:

  FailureOr<Value> lowerConv(Conv2DOp conv);
  FailureOr<Value> lowerPool(Operation *op, bool max);
  FailureOr<Value> lowerConvTranspose(ConvTranspose2DOp ct);
  FailureOr<Value> lowerResize(ResizeOp r);
  FailureOr<Value> lowerMatMul(MatMulOp mm);
  FailureOr<Value> lowerLayerNorm(LayerNormOp ln);
  FailureOr<Value> lowerSqueezeExcite(SqueezeExciteOp se);
  /// Reflect (or edge) padding: per padded dimension, the mirrored (or
  /// repeated edge) rows as slices, concatenated around the input.
  Value padBySlices(Value x, ArrayRef<int64_t> pads, bool reflect);

  // --- builders: every value is a logical (NCHW for 4-D) f32 tensor ---
  Type f32() { return b.getF32Type(); }
  RankedTensorType tensor(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, f32());
  }
  static ArrayRef<int64_t> shapeOf(Value v) {
    return cast<RankedTensorType>(v.getType()).getShape();
  }
  Value constant(ArrayRef<int64_t> shape, ArrayRef<float> data,
                 StringRef name) {
    auto type = tensor(shape);
    return b.create<tosa::ConstOp>(loc, type, makeWeightAttr(type, data, name));
  }
  /// A constant of `rank` broadcasting against anything.
  Value scalar(float v, int64_t rank) {
    return constant(SmallVector<int64_t>(rank, 1), {v}, "scalar");
  }
  Value transpose(Value v, ArrayRef<int64_t> perm) {
    return buildTranspose(b, loc, v, perm);
  }
  Value toNHWC(Value v) { return transpose(v, kNCHWToNHWC); }
  Value toNCHW(Value v) { return transpose(v, kNHWCToNCHW); }
  Value reshape(Value v, ArrayRef<int64_t> shape) {
    if (shapeOf(v) == shape)
      return v;
    return b.create<tosa::ReshapeOp>(loc, tensor(shape), v,
                                     b.getDenseI64ArrayAttr(shape));
  }
  /// NumPy's rank lifting (leading 1s): TOSA broadcasts equal ranks only.
  Value lift(Value v, int64_t rank) {
    ArrayRef<int64_t> s = shapeOf(v);
    if (int64_t(s.size()) >= rank)
      return v;
    SmallVector<int64_t> shape(rank - s.size(), 1);
    llvm::append_range(shape, s);
    return reshape(v, shape);
  }
  Value clamp(Value v, float lo, float hi) {
    return b.create<tosa::ClampOp>(
        loc, v.getType(), v, b.getI64IntegerAttr(0),
        b.getI64IntegerAttr(std::numeric_limits<int64_t>::max()),
        b.getF32FloatAttr(lo), b.getF32FloatAttr(hi));
  }
  /// An element-wise binary op with NumPy broadcasting.
  template <typename OpTy, typename... Extra>
  Value binary(Value x, Value y, Extra... extra) {
    ArrayRef<int64_t> xs = shapeOf(x), ys = shapeOf(y);
    int64_t rank = std::max(xs.size(), ys.size());
    x = lift(x, rank);
    y = lift(y, rank);
    SmallVector<int64_t> shape;
    for (int64_t i = 0; i < rank; ++i)
      shape.push_back(std::max(shapeOf(x)[i], shapeOf(y)[i]));
    return b.create<OpTy>(loc, tensor(shape), x, y, extra...);
  }
  Value add(Value x, Value y) { return binary<tosa::AddOp>(x, y); }
  Value sub(Value x, Value y) { return binary<tosa::SubOp>(x, y); }
  Value mul(Value x, Value y) {
    return binary<tosa::MulOp>(x, y, b.getI8IntegerAttr(0));
  }
  Value scale(Value x, float s) { return mul(x, scalar(s, shapeOf(x).size())); }
  /// Sum (or max) over one axis, keeping it as size 1.
  Value reduce(Value v, int64_t axis, bool max) {
    SmallVector<int64_t> shape(shapeOf(v));
    shape[axis] = 1;
    if (max)
      return b.create<tosa::ReduceMaxOp>(loc, tensor(shape), v,
                                         b.getI32IntegerAttr(axis));
    return b.create<tosa::ReduceSumOp>(loc, tensor(shape), v,
                                       b.getI32IntegerAttr(axis));
  }
  Value reduceMean(Value v, ArrayRef<int64_t> axes) {
    int64_t count = 1;
    for (int64_t a : axes) {
      count *= shapeOf(v)[a];
      v = reduce(v, a, false);
    }
    return scale(v, 1.0f / float(count));
  }
  /// x / y: a constant divisor becomes a multiplication by its reciprocal.
  Value divide(Value x, Value y) {
    SmallVector<float> storage;
    if (std::optional<ArrayRef<float>> c = getConstantF32(y, storage)) {
      std::vector<float> inv;
      for (float v : *c)
        inv.push_back(1.0f / v);
      return mul(x, constant(shapeOf(y), inv, "reciprocal"));
    }
    return mul(x, b.create<tosa::ReciprocalOp>(loc, y.getType(), y));
  }
  /// Who reports errors: the target the user asked for.
  std::string who() const {
    return forTFLite ? "TFLite target" : "TOSA lowering";
  }
  std::string nameOf(Operation *op) {
    if (auto n = dyn_cast<NameLoc>(op->getLoc()))
      return n.getName().str();
    return op->getName().stripDialect().str();
  }

  OpBuilder &b;
  Location loc = UnknownLoc::get(b.getContext());
  bool forTFLite;
};

FailureOr<Value> Lowering::lowerConv(Conv2DOp conv) {
  auto wType = conv.getWeight().getType();
  ArrayRef<int64_t> ws = wType.getShape(); // [OC, IC/g, KH, KW]
  std::vector<float> w, bias;
  if (failed(requireConvConstants(
          conv, who() + " (weights are re-laid out at compile time)", w,
          bias)))
    return failure();
  ArrayRef<int64_t> p = conv.getPads(); // ONNX [top, left, bottom, right]
  auto pad = b.getDenseI64ArrayAttr({p[0], p[2], p[1], p[3]});
  auto stride = b.getDenseI64ArrayAttr(conv.getStrides());
  auto dilation = b.getDenseI64ArrayAttr(conv.getDilations());
  ArrayRef<int64_t> os = conv.getType().getShape();
  auto outType = tensor({os[0], os[2], os[3], os[1]});
  int64_t inChannels = conv.getInput().getType().getDimSize(1);
  int64_t group = conv.getGroup();
  std::string name = nameOf(conv);
  Value x = toNHWC(conv.getInput());

  Value result;
  if (group == 1) {
    Value weight = constant(permuteShape(ws, kOIHWToOHWI),
                            transposeElements(w, ws, kOIHWToOHWI), name + ".w");
    result = b.create<tosa::Conv2DOp>(loc, outType, x, weight,
                                      constant({ws[0]}, bias, name + ".b"), pad,
                                      stride, dilation);
  } else if (group == inChannels) {
    // [C*M, 1, KH, KW] -> [KH, KW, C, M]: output channel c*M + m.
    int64_t m = ws[0] / group;
    SmallVector<int64_t> shape = {ws[2], ws[3], group, m};
    std::vector<float> hwcm(w.size());
    for (int64_t c = 0; c < group; ++c)
      for (int64_t j = 0; j < m; ++j)
        for (int64_t y = 0; y < ws[2]; ++y)
          for (int64_t x2 = 0; x2 < ws[3]; ++x2)
            hwcm[((y * ws[3] + x2) * group + c) * m + j] =
                w[((c * m + j) * ws[2] + y) * ws[3] + x2];
    result = b.create<tosa::DepthwiseConv2DOp>(
        loc, outType, x, constant(shape, hwcm, name + ".w"),
        constant({ws[0]}, bias, name + ".b"), pad, stride, dilation);
  } else {
    // Grouped: one conv per group on a channel slice, concatenated.
    ArrayRef<int64_t> xs = shapeOf(x);
    int64_t icg = ws[1], ocg = ws[0] / group;
    int64_t perGroup = ocg * icg * ws[2] * ws[3];
    SmallVector<Value> parts;
    for (int64_t g = 0; g < group; ++g) {
      Value slice = b.create<tosa::SliceOp>(
          loc, tensor({xs[0], xs[1], xs[2], icg}), x,
          b.getDenseI64ArrayAttr({0, 0, 0, g * icg}),
          b.getDenseI64ArrayAttr({xs[0], xs[1], xs[2], icg}));
      ArrayRef<float> wg(w.data() + g * perGroup, perGroup);
      SmallVector<int64_t> gs = {ocg, icg, ws[2], ws[3]};
      Value weight = constant(permuteShape(gs, kOIHWToOHWI),
                              transposeElements(wg, gs, kOIHWToOHWI),
                              name + ".w" + std::to_string(g));
      std::vector<float> bg(bias.begin() + g * ocg,
                            bias.begin() + (g + 1) * ocg);
      parts.push_back(b.create<tosa::Conv2DOp>(
          loc, tensor({os[0], os[2], os[3], ocg}), slice, weight,
          constant({ocg}, bg, name + ".b" + std::to_string(g)), pad, stride,
          dilation));
    }
    result =
        b.create<tosa::ConcatOp>(loc, outType, parts, b.getI32IntegerAttr(3));
  }
  return toNCHW(result);
}

FailureOr<Value> Lowering::lowerPool(Operation *op, bool max) {
  Value input = op->getOperand(0);
  auto kernel = op->getAttrOfType<DenseI64ArrayAttr>("kernel_shape");
  auto strides = op->getAttrOfType<DenseI64ArrayAttr>("strides");
  auto dilations = op->getAttrOfType<DenseI64ArrayAttr>("dilations");
  ArrayRef<int64_t> p = op->getAttrOfType<DenseI64ArrayAttr>("pads").asArrayRef();
  if (llvm::any_of(dilations.asArrayRef(), [](int64_t d) { return d != 1; }))
    return op->emitError(who() + " cannot express a dilated pooling");
  ArrayRef<int64_t> is = shapeOf(input), os = shapeOf(op->getResult(0));
  // Ceil mode is exact when no window is partial: the floor size agrees.
  SmallVector<int64_t, 4> pads = {p[0], p[2], p[1], p[3]};
  for (int i = 0; i < 2; ++i) {
    int64_t span = is[2 + i] + p[i] + p[i + 2] - kernel[i];
    if (span / strides[i] + 1 != os[2 + i]) {
      // A partial last window: the pad the window reaches into, excluded.
      int64_t extra = (os[2 + i] - 1) * strides[i] + kernel[i] -
                      (is[2 + i] + p[i] + p[i + 2]);
      if (!max && op->getAttrOfType<IntegerAttr>("count_include_pad").getInt())
        return op->emitError(who() + " cannot express ceil-mode average "
                                     "pooling that counts padding in a partial "
                             "window");
      pads[2 * i + 1] += extra;
    }
  }
  Value x = toNHWC(input);
  bool countPad = !max &&
                  op->getAttrOfType<IntegerAttr>("count_include_pad").getInt() &&
                  llvm::any_of(p, [](int64_t v) { return v != 0; });
  if (countPad) {
    // TOSA excludes padding from the divisor: pad with zeros explicitly.
    SmallVector<int64_t> padShape = {is[0], is[2] + p[0] + p[2],
                                     is[3] + p[1] + p[3], is[1]};
    auto padType = RankedTensorType::get({4, 2}, b.getI64Type());
    SmallVector<int64_t> pv = {0, 0, p[0], p[2], p[1], p[3], 0, 0};
    Value paddings = b.create<tosa::ConstOp>(
        loc, padType, DenseElementsAttr::get(padType, ArrayRef<int64_t>(pv)));
    x = b.create<tosa::PadOp>(loc, tensor(padShape), x, paddings);
    pads = {0, 0, 0, 0};
  }
  auto outType = tensor({os[0], os[2], os[3], os[1]});
  Value result;
  if (max)
    result = b.create<tosa::MaxPool2dOp>(loc, outType, x, kernel, strides,
                                         b.getDenseI64ArrayAttr(pads));
  else
    result = b.create<tosa::AvgPool2dOp>(
        loc, outType, x, kernel, strides, b.getDenseI64ArrayAttr(pads),
        TypeAttr::get(f32()), /*quantization_info=*/nullptr);
  return toNCHW(result);
}

/// tosa.transpose_conv2d per group (sliced and concatenated like grouped
/// convolutions), a dilated kernel spread out with zeros (exact), ONNX pads
/// as negative out_pad (cropping) and output_padding as extra rows at the
/// end.
FailureOr<Value> Lowering::lowerConvTranspose(ConvTranspose2DOp ct) {
  std::string name = nameOf(ct);
  std::optional<std::vector<float>> w = requireConstantF32(
      ct.getWeight(), ct, who(), "weight (re-laid out at compile time)");
  if (!w)
    return failure();
  int64_t oc = ct.getOutChannels();
  std::vector<float> bias(oc, 0.0f);
  if (ct.getBias()) {
    std::optional<std::vector<float>> bv =
        requireConstantF32(ct.getBias(), ct, who(), "bias");
    if (!bv)
      return failure();
    bias = *bv;
  }
  ArrayRef<int64_t> ws = ct.getWeight().getType().getShape(); // [C, OC/g, KH, KW]
  ArrayRef<int64_t> d = ct.getDilations(), p = ct.getPads(),
                    op = ct.getOutputPadding();
  int64_t group = ct.getGroup(), icg = ws[0] / group, ocg = ws[1];
  int64_t kh = d[0] * (ws[2] - 1) + 1, kw = d[1] * (ws[3] - 1) + 1;
  ArrayRef<int64_t> os = ct.getType().getShape();
  Value x = toNHWC(ct.getInput());
  ArrayRef<int64_t> xs = shapeOf(x);
  auto outPad = b.getDenseI64ArrayAttr(
      {-p[0], -p[2] + op[0], -p[1], -p[3] + op[1]});
  SmallVector<Value> parts;
  for (int64_t g = 0; g < group; ++g) {
    // [OC/g, KH', KW', C/g]: weight[o][y * dh][x * dw][i] = W[g*icg + i][o][y][x].
    std::vector<float> ohwi(ocg * kh * kw * icg, 0.0f);
    for (int64_t i = 0; i < icg; ++i)
      for (int64_t o = 0; o < ocg; ++o)
        for (int64_t y = 0; y < ws[2]; ++y)
          for (int64_t x2 = 0; x2 < ws[3]; ++x2)
            ohwi[((o * kh + y * d[0]) * kw + x2 * d[1]) * icg + i] =
                (*w)[(((g * icg + i) * ocg + o) * ws[2] + y) * ws[3] + x2];
    Value slice = x;
    if (group > 1)
      slice = b.create<tosa::SliceOp>(
          loc, tensor({xs[0], xs[1], xs[2], icg}), x,
          b.getDenseI64ArrayAttr({0, 0, 0, g * icg}),
          b.getDenseI64ArrayAttr({xs[0], xs[1], xs[2], icg}));
    std::string suffix = group > 1 ? std::to_string(g) : "";
    std::vector<float> bg(bias.begin() + g * ocg, bias.begin() + (g + 1) * ocg);
    SmallVector<int64_t> outShape = {os[0], os[2], os[3], ocg};
    parts.push_back(b.create<tosa::TransposeConv2DOp>(
        loc, tensor(outShape), slice,
        constant({ocg, kh, kw, icg}, ohwi, name + ".w" + suffix),
        constant({ocg}, bg, name + ".b" + suffix), outPad,
        b.getDenseI64ArrayAttr(ct.getStrides()),
        b.getDenseI64ArrayAttr(outShape), /*quantization_info=*/nullptr,
        /*local_bound=*/nullptr));
  }
  Value result = parts.size() == 1
                     ? parts[0]
                     : b.create<tosa::ConcatOp>(
                           loc, tensor({os[0], os[2], os[3], os[1]}), parts,
                           b.getI32IntegerAttr(3));
  return toNCHW(result);
}

/// tosa.resize in its exact integer form (math/Resize.h): the nearest
/// rounding folded into the offset.
FailureOr<Value> Lowering::lowerResize(ResizeOp r) {
  auto mode = *math::parseResizeMode(r.getMode());
  auto coords =
      *math::parseResizeCoordinates(r.getCoordinateTransformationMode());
  auto rounding = *math::parseNearestRounding(r.getNearestMode());
  ArrayRef<int64_t> is = shapeOf(r.getInput()), os = r.getType().getShape();
  SmallVector<int64_t> scale, offset, border;
  for (int d = 0; d < 2; ++d) {
    std::optional<math::RationalResize> q = math::rationalResize(
        mode, coords, rounding, is[2 + d], os[2 + d], r.getScales()[d]);
    if (!q)
      return r.emitError(who() + " cannot express the scale ")
             << r.getScales()[d] << " as a ratio of integers up to 4096";
    scale.append({q->n, q->d});
    offset.push_back(q->offset);
    border.push_back(math::resizeBorder(*q, is[2 + d], os[2 + d]));
  }
  Value x = toNHWC(r.getInput());
  Value y = b.create<tosa::ResizeOp>(
      loc, tensor({os[0], os[2], os[3], os[1]}), x,
      b.getDenseI64ArrayAttr(scale), b.getDenseI64ArrayAttr(offset),
      b.getDenseI64ArrayAttr(border),
      b.getStringAttr(mode == math::ResizeMode::Nearest ? "NEAREST_NEIGHBOR"
                                                         : "BILINEAR"));
  return toNCHW(y);
}

FailureOr<Value> Lowering::lowerMatMul(MatMulOp mm) {
  // TOSA's matmul is [B, M, K] x [B, K, N]: collapse the batch dimensions
  // (broadcast first where they differ).
  auto outShape = shapeOf(mm.getOutput());
  int64_t rank = outShape.size();
  SmallVector<int64_t> batch(outShape.begin(), outShape.end() - 2);
  int64_t batches = 1;
  for (int64_t d : batch)
    batches *= d;
  auto prepare = [&](Value v) {
    v = lift(v, rank);
    ArrayRef<int64_t> s = shapeOf(v);
    SmallVector<int64_t> multiples;
    bool tile = false;
    for (int64_t i = 0; i < rank - 2; ++i) {
      multiples.push_back(batch[i] / s[i]);
      tile |= s[i] != batch[i];
    }
    multiples.append({1, 1});
    if (tile) {
      SmallVector<int64_t> tiled(batch);
      tiled.append({s[rank - 2], s[rank - 1]});
      v = b.create<tosa::TileOp>(loc, tensor(tiled), v,
                                 b.getDenseI64ArrayAttr(multiples));
    }
    return reshape(v, {batches, s[rank - 2], s[rank - 1]});
  };
  Value lhs = prepare(mm.getLhs()), rhs = prepare(mm.getRhs());
  Value product = b.create<tosa::MatMulOp>(
      loc, tensor({batches, outShape[rank - 2], outShape[rank - 1]}), lhs, rhs);
  return reshape(product, outShape);
}

FailureOr<Value> Lowering::lowerLayerNorm(LayerNormOp ln) {
  Value x = ln.getInput();
  int64_t rank = shapeOf(x).size();
  SmallVector<int64_t> axes;
  for (int64_t a = ln.getAxis(); a < rank; ++a)
    axes.push_back(a);
  Value centred = sub(x, reduceMean(x, axes));
  Value variance = reduceMean(mul(centred, centred), axes);
  Value eps = scalar(float(ln.getEpsilon().convertToDouble()), rank);
  // pow(., -0.5), not tosa.rsqrt: upstream's CPU lowering of math.rsqrt
  // (LLVM 19) only takes vectors.
  Value inv = binary<tosa::PowOp>(add(variance, eps), scalar(-0.5f, rank));
  Value y = mul(mul(centred, inv), ln.getScale());
  return ln.getBias() ? add(y, ln.getBias()) : y;
}

FailureOr<Value> Lowering::lowerSqueezeExcite(SqueezeExciteOp se) {
  auto rw = requireConstantF32(se.getReduceWeight(), se, who(),
                               "the SE weights");
  auto rb = requireConstantF32(se.getReduceBias(), se, who(),
                               "the SE biases");
  auto ew = requireConstantF32(se.getExpandWeight(), se, who(),
                               "the SE weights");
  auto eb = requireConstantF32(se.getExpandBias(), se, who(),
                               "the SE biases");
  if (!rw || !rb || !ew || !eb)
    return failure();
  Value x = se.getInput();
  ArrayRef<int64_t> s = shapeOf(x);
  int64_t n = s[0], c = se.getChannels(), r = se.getReducedChannels();
  Value pooled = reshape(
      toNCHW(b.create<tosa::AvgPool2dOp>(
          loc, tensor({n, 1, 1, c}), toNHWC(x),
          b.getDenseI64ArrayAttr({s[2], s[3]}), b.getDenseI64ArrayAttr({1, 1}),
          b.getDenseI64ArrayAttr({0, 0, 0, 0}), TypeAttr::get(f32()),
          /*quantization_info=*/nullptr)),
      {n, c});
  Value hidden = clamp(b.create<tosa::FullyConnectedOp>(
                           loc, tensor({n, r}), pooled,
                           constant({r, c}, *rw, "se.reduce.w"),
                           constant({r}, *rb, "se.reduce.b")),
                       0.0f, kFloatMax);
  Value gate = b.create<tosa::SigmoidOp>(
      loc, tensor({n, c}),
      b.create<tosa::FullyConnectedOp>(loc, tensor({n, c}), hidden,
                                       constant({c, r}, *ew, "se.expand.w"),
                                       constant({c}, *eb, "se.expand.b")));
  return mul(x, reshape(gate, {n, c, 1, 1}));
}

Value Lowering::padBySlices(Value x, ArrayRef<int64_t> pads, bool reflect) {
  int64_t rank = pads.size() / 2;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t before = pads[d], after = pads[rank + d];
    if (!before && !after)
      continue;
    SmallVector<int64_t> shape(shapeOf(x));
    int64_t n = shape[d];
    auto row = [&](int64_t i) {
      SmallVector<int64_t> start(rank, 0), size(shape);
      start[d] = i;
      size[d] = 1;
      return Value(b.create<tosa::SliceOp>(loc, tensor(size), x,
                                           b.getDenseI64ArrayAttr(start),
                                           b.getDenseI64ArrayAttr(size)));
    };
    SmallVector<Value> parts;
    for (int64_t k = before; k >= 1; --k)
      parts.push_back(row(reflect ? k : 0));
    parts.push_back(x);
    for (int64_t k = 1; k <= after; ++k)
      parts.push_back(row(reflect ? n - 1 - k : n - 1));
    shape[d] += before + after;
    x = b.create<tosa::ConcatOp>(loc, tensor(shape), parts,
                                 b.getI32IntegerAttr(d));
  }
  return x;
}

FailureOr<SmallVector<Value>> Lowering::lower(Operation &op) {
  b.setInsertionPoint(&op);
  loc = op.getLoc();
  auto one = [](FailureOr<Value> v) -> FailureOr<SmallVector<Value>> {
    if (failed(v))
      return failure();
    return SmallVector<Value>{*v};
  };
  auto in = [&](unsigned i = 0) { return op.getOperand(i); };
  Type type = op.getNumResults() ? op.getResult(0).getType() : Type();
  auto unsupported = [&](StringRef why) -> FailureOr<Value> {
    return op.emitError(who() + " cannot express '")
           << op.getName() << "'" << why;
  };
  using R = FailureOr<Value>;
  if (auto split = dyn_cast<SplitOp>(op)) {
    SmallVector<Value> parts;
    SmallVector<int64_t> start(shapeOf(in()).size(), 0);
    for (Value part : split.getOutputs()) {
      parts.push_back(b.create<tosa::SliceOp>(
          loc, part.getType(), in(), b.getDenseI64ArrayAttr(start),
          b.getDenseI64ArrayAttr(shapeOf(part))));
      start[split.getAxis()] += shapeOf(part)[split.getAxis()];
    }
    return parts;
  }
  return one(
      llvm::TypeSwitch<Operation *, R>(&op)
          .Case([&](Conv2DOp conv) { return lowerConv(conv); })
          .Case([&](ConvTranspose2DOp ct) { return lowerConvTranspose(ct); })
          .Case([&](ResizeOp r) { return lowerResize(r); })
          .Case([&](ArgMaxOp a) -> R {
            // tosa.argmax writes i32; a cast gives ONNX's i64. Over the
            // channels of a 4-D tensor it reads NHWC (the transpose then
            // cancels against the producer's), the rest keeps its order.
            if (a.getSelectLastIndex())
              return unsupported(": select_last_index = 1 (tosa.argmax and "
                                 "TFLite's ARG_MAX take the first maximum)");
            Value x = in();
            int64_t axis = a.getAxis();
            if (shapeOf(x).size() == 4 && axis == 1) {
              x = toNHWC(x);
              axis = 3;
            }
            SmallVector<int64_t> reduced(shapeOf(x));
            reduced.erase(reduced.begin() + axis);
            Value idx = b.create<tosa::ArgMaxOp>(
                loc, RankedTensorType::get(reduced, b.getI32Type()), x,
                b.getI32IntegerAttr(axis));
            auto outType = cast<RankedTensorType>(a.getType());
            Value wide = b.create<tosa::CastOp>(
                loc, RankedTensorType::get(reduced, outType.getElementType()),
                idx);
            if (reduced == outType.getShape())
              return wide;
            return b.create<tosa::ReshapeOp>(loc, outType, wide,
                                             b.getDenseI64ArrayAttr(
                                                 outType.getShape()))
                .getResult();
          })
          .Case([&](ReluOp) { return clamp(in(), 0.0f, kFloatMax); })
          .Case([&](ClipOp c) {
            return clamp(in(), c.getMin().convertToFloat(),
                         c.getMax().convertToFloat());
          })
          .Case([&](LeakyReluOp l) -> Value {
            float alpha = l.getAlpha().convertToFloat();
            Value scaled = scale(in(), alpha);
            if (alpha <= 1.0f)
              return b.create<tosa::MaximumOp>(loc, type, in(), scaled);
            return b.create<tosa::MinimumOp>(loc, type, in(), scaled);
          })
          .Case([&](SigmoidOp) {
            return b.create<tosa::SigmoidOp>(loc, type, in());
          })
          .Case([&](TanhOp) { return b.create<tosa::TanhOp>(loc, type, in()); })
          .Case([&](ErfOp) { return b.create<tosa::ErfOp>(loc, type, in()); })
          .Case([&](ExpOp) { return b.create<tosa::ExpOp>(loc, type, in()); })
          .Case([&](NegOp) {
            return b.create<tosa::NegateOp>(loc, type, in());
          })
          .Case([&](ReciprocalOp) {
            return b.create<tosa::ReciprocalOp>(loc, type, in());
          })
          .Case([&](SqrtOp) {
            return b.create<tosa::PowOp>(
                loc, type, in(), scalar(0.5f, shapeOf(in()).size()));
          })
          .Case([&](HardSigmoidOp h) {
            Value x = in();
            int64_t rank = shapeOf(x).size();
            Value affine = add(scale(x, h.getAlpha().convertToFloat()),
                               scalar(h.getBeta().convertToFloat(), rank));
            return clamp(affine, 0.0f, 1.0f);
          })
          .Case([&](SiluOp) {
            return mul(in(), b.create<tosa::SigmoidOp>(loc, type, in()));
          })
          .Case([&](HardSwishOp) {
            Value x = in();
            Value gate = clamp(
                add(scale(x, 1.0f / 6.0f), scalar(0.5f, shapeOf(x).size())),
                0.0f, 1.0f);
            return mul(x, gate);
          })
          .Case([&](GeluOp g) -> Value {
            Value x = in();
            int64_t rank = shapeOf(x).size();
            Value inner;
            if (g.getApproximate() == "tanh") {
              Value cube = mul(mul(x, x), x);
              Value poly = add(x, scale(cube, 0.044715f));
              inner = b.create<tosa::TanhOp>(
                  loc, type, scale(poly, float(std::sqrt(2.0 / M_PI))));
            } else {
              inner = b.create<tosa::ErfOp>(loc, type,
                                            scale(x, float(M_SQRT1_2)));
            }
            return mul(scale(x, 0.5f), add(inner, scalar(1.0f, rank)));
          })
          .Case([&](SoftmaxOp s) -> Value {
            Value x = in();
            int64_t axis = s.getAxis() < 0 ? s.getAxis() + shapeOf(x).size()
                                           : s.getAxis();
            Value e = b.create<tosa::ExpOp>(loc, type,
                                            sub(x, reduce(x, axis, true)));
            Value sum = reduce(e, axis, false);
            return mul(e, b.create<tosa::ReciprocalOp>(loc, sum.getType(), sum));
          })
          .Case([&](AddOp) { return add(in(0), in(1)); })
          .Case([&](SubOp) { return sub(in(0), in(1)); })
          .Case([&](MulOp) { return mul(in(0), in(1)); })
          .Case([&](DivOp) { return divide(in(0), in(1)); })
          .Case([&](PowOp) { return binary<tosa::PowOp>(in(0), in(1)); })
          .Case([&](BatchNormOp bn) -> R {
            std::vector<double> sc, sh;
            std::string missing;
            auto read = [&missing](Value v, StringRef what)
                -> std::optional<std::vector<double>> {
              SmallVector<float> storage;
              std::optional<ArrayRef<float>> data = getConstantF32(v, storage);
              if (!data) {
                missing = what.str();
                return std::nullopt;
              }
              return std::vector<double>(data->begin(), data->end());
            };
            if (!batchNormAffine(bn, read, sc, sh))
              return bn.emitError(who() + ": " + missing +
                                  " of the batch_norm must be a constant");
            SmallVector<int64_t> shape(shapeOf(in()).size(), 1);
            shape[1] = sc.size();
            Value scaled = mul(in(), constant(shape, math::toF32(sc),
                                              nameOf(bn) + ".scale"));
            return add(scaled,
                       constant(shape, math::toF32(sh), nameOf(bn) + ".shift"));
          })
          .Case([&](GlobalAvgPoolOp) {
            ArrayRef<int64_t> s = shapeOf(in());
            Value pooled = b.create<tosa::AvgPool2dOp>(
                loc, tensor({s[0], 1, 1, s[1]}), toNHWC(in()),
                b.getDenseI64ArrayAttr({s[2], s[3]}),
                b.getDenseI64ArrayAttr({1, 1}),
                b.getDenseI64ArrayAttr({0, 0, 0, 0}), TypeAttr::get(f32()),
                /*quantization_info=*/nullptr);
            return toNCHW(pooled);
          })
          .Case([&](AvgPoolOp) { return lowerPool(&op, false); })
          .Case([&](MaxPoolOp) { return lowerPool(&op, true); })
          .Case([&](ReshapeOp r) -> R {
            if (!cast<RankedTensorType>(type).getElementType().isF32())
              return unsupported(" on integer tensors (a shape computation "
                                 "that did not fold to a constant)");
            return reshape(in(), shapeOf(r.getOutput()));
          })
          .Case([&](TransposeOp t) {
            return transpose(in(), t.getPerm());
          })
          .Case([&](ConcatOp c) -> R {
            if (!cast<RankedTensorType>(type).getElementType().isF32())
              return unsupported(" on integer tensors (a shape computation "
                                 "that did not fold to a constant)");
            return Value(b.create<tosa::ConcatOp>(
                loc, type, c.getInputs(), b.getI32IntegerAttr(c.getAxis())));
          })
          .Case([&](SliceOp s) -> R {
            if (llvm::any_of(s.getSteps(), [](int64_t v) { return v != 1; }))
              return unsupported(" with steps other than 1");
            if (!cast<RankedTensorType>(type).getElementType().isF32())
              return unsupported(" on integer tensors (a shape computation "
                                 "that did not fold to a constant)");
            return Value(b.create<tosa::SliceOp>(
                loc, type, in(), b.getDenseI64ArrayAttr(s.getStarts()),
                b.getDenseI64ArrayAttr(shapeOf(s.getOutput()))));
          })
          .Case([&](PadOp p) -> R {
            ArrayRef<int64_t> pads = p.getPads();
            int64_t rank = pads.size() / 2;
            if (p.getMode() == "reflect" || p.getMode() == "edge")
              return padBySlices(in(), pads, p.getMode() == "reflect");
            if (p.getMode() != "constant")
              return unsupported(" in mode '" + p.getMode().str() + "'");
            SmallVector<int64_t> pv;
            for (int64_t i = 0; i < rank; ++i)
              pv.append({pads[i], pads[rank + i]});
            auto padType = RankedTensorType::get({rank, 2}, b.getI64Type());
            Value paddings = b.create<tosa::ConstOp>(
                loc, padType,
                DenseElementsAttr::get(padType, ArrayRef<int64_t>(pv)));
            auto valueType = tensor({});
            Value value = b.create<tosa::ConstOp>(
                loc, valueType,
                DenseElementsAttr::get(valueType,
                                       p.getValue().convertToFloat()));
            return Value(
                b.create<tosa::PadOp>(loc, type, in(), paddings, value));
          })
          .Case([&](ExpandOp) -> R {
            if (!cast<RankedTensorType>(type).getElementType().isF32())
              return unsupported(" on integer tensors (a shape computation "
                                 "that did not fold to a constant)");
            ArrayRef<int64_t> out = shapeOf(op.getResult(0));
            Value x = lift(in(), out.size());
            SmallVector<int64_t> multiples;
            for (auto [o, i] : llvm::zip(out, shapeOf(x)))
              multiples.push_back(o / i);
            return Value(b.create<tosa::TileOp>(
                loc, type, x, b.getDenseI64ArrayAttr(multiples)));
          })
          .Case<ReduceMeanOp, ReduceSumOp, ReduceMaxOp>([&](auto r) -> Value {
            Value x = in();
            SmallVector<int64_t> axes(r.getAxes());
            if (axes.empty())
              for (int64_t i = 0, e = shapeOf(x).size(); i < e; ++i)
                axes.push_back(i);
            if (isa<ReduceMeanOp>(op)) {
              x = reduceMean(x, axes);
            } else {
              for (int64_t a : axes)
                x = reduce(x, a, isa<ReduceMaxOp>(op));
            }
            return reshape(x, shapeOf(r.getOutput()));
          })
          .Case([&](LayerNormOp ln) { return lowerLayerNorm(ln); })
          .Case([&](MatMulOp mm) { return lowerMatMul(mm); })
          .Case([&](LinearOp lin) -> Value {
            int64_t m = lin.getWeight().getType().getDimSize(0);
            Value bias = lin.getBias()
                             ? lin.getBias()
                             : constant({m}, std::vector<float>(m, 0.0f),
                                        nameOf(lin) + ".b");
            return b.create<tosa::FullyConnectedOp>(loc, type, lin.getInput(),
                                                    lin.getWeight(), bias);
          })
          .Case([&](SqueezeExciteOp se) { return lowerSqueezeExcite(se); })
          .Case([&](BlockOp) -> R {
            return op.emitError(
                who() + " cannot express 'mobileone.block' "
                "(a training-time multi-branch block); run "
                "--mobileone-reparameterize first");
          })
          .Case<ShapeOp, GatherOp, CastOp, EqualOp, WhereOp>(
              [&](Operation *) {
                return unsupported(": a shape computation that did not fold "
                                   "to a constant");
              })
          .Default([&](Operation *) { return unsupported(""); }));
}

/// Each op of the mobileone dialect: its TOSA ops (Lowering::lower), or
/// the error saying why the target cannot express it.
struct LowerMobileOneOp : ConversionPattern {
  LowerMobileOneOp(MLIRContext *ctx, StringRef name, bool forTFLite)
      : ConversionPattern(name, /*benefit=*/1, ctx), forTFLite(forTFLite) {}
  LogicalResult
  matchAndRewrite(Operation *op, ArrayRef<Value> operands,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<SmallVector<Value>> lowered =
        Lowering(rewriter, forTFLite).lower(*op);
    if (failed(lowered))
      return failure();
    rewriter.replaceOp(op, *lowered);
    return success();
  }
  bool forTFLite;
};

/// Weights move to tosa.const, keeping their (resource) storage.
struct ConstantToTosa : OpConversionPattern<arith::ConstantOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(arith::ConstantOp c, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto elements = dyn_cast<ElementsAttr>(c.getValue());
    if (!elements)
      return failure();
    rewriter.replaceOpWithNewOp<tosa::ConstOp>(c, c.getType(), elements);
    return success();
  }
};

/// TFLite's interface is NHWC for 4-D inputs and outputs: a transpose after
/// each such input and before each such result, which the cleanup cancels
/// against the lowering's own.
void makeInterfaceNHWC(func::FuncOp func) {
  Block &body = func.getBody().front();
  OpBuilder b(func.getContext());
  auto transpose = [&](Location loc, Value v, ArrayRef<int64_t> perm) {
    return buildTranspose(b, loc, v, perm);
  };
  b.setInsertionPointToStart(&body);
  for (BlockArgument arg : body.getArguments()) {
    auto type = cast<RankedTensorType>(arg.getType());
    if (type.getRank() != 4)
      continue;
    arg.setType(type.clone(permuteShape(type.getShape(), kNCHWToNHWC)));
    Value nchw = transpose(arg.getLoc(), arg, kNHWCToNCHW);
    arg.replaceAllUsesExcept(nchw, nchw.getDefiningOp());
  }
  Operation *ret = body.getTerminator();
  b.setInsertionPoint(ret);
  for (OpOperand &result : ret->getOpOperands())
    if (cast<RankedTensorType>(result.get().getType()).getRank() == 4)
      result.set(transpose(ret->getLoc(), result.get(), kNCHWToNHWC));
  func.setFunctionType(FunctionType::get(
      func.getContext(), body.getArgumentTypes(), ret->getOperandTypes()));
}

} // namespace

void mlir::mobileone::populateMobileOneToTosaPatterns(
    RewritePatternSet &patterns, bool forTFLite) {
  MLIRContext *ctx = patterns.getContext();
  for (RegisteredOperationName name : ctx->getRegisteredOperations())
    if (name.getDialectNamespace() == MobileOneDialect::getDialectNamespace())
      patterns.add<LowerMobileOneOp>(ctx, name.getStringRef(), forTFLite);
  patterns.add<ConstantToTosa>(ctx);
}

void mlir::mobileone::configureMobileOneToTosaTarget(ConversionTarget &target,
                                                     bool forTFLite) {
  target.addLegalDialect<tosa::TosaDialect, func::FuncDialect>();
  target.addDynamicallyLegalDialect<MobileOneDialect>(
      [forTFLite](Operation *op) { return forTFLite && keptForTFLite(*op); });
  target.addDynamicallyLegalOp<arith::ConstantOp>([](arith::ConstantOp c) {
    return !isa<ElementsAttr>(c.getValue());
  });
}

namespace {

struct ConvertMobileOneToTosaPass
    : public mobileone::impl::ConvertMobileOneToTosaBase<
          ConvertMobileOneToTosaPass> {
  using Base::Base;
  void runOnOperation() override {
    if (target != "tosa" && target != "tflite") {
      getOperation().emitError("convert-mobileone-to-tosa: unknown target '")
          << target << "': expected tosa or tflite";
      return signalPassFailure();
    }
    if (interfaceLayout != "nhwc" && interfaceLayout != "nchw") {
      getOperation().emitError(
          "convert-mobileone-to-tosa: unknown interface-layout '")
          << interfaceLayout << "': expected nhwc or nchw";
      return signalPassFailure();
    }
    const bool forTFLite = target == "tflite";
    const char *who = forTFLite ? "TFLite target" : "TOSA lowering";
    for (auto func : getOperation().getOps<func::FuncOp>())
      for (Type t : func.getArgumentTypes()) {
        auto type = dyn_cast<RankedTensorType>(t);
        if (!type || !type.hasStaticShape() || !type.getElementType().isF32()) {
          func.emitError(who) << ": expected static f32 tensor arguments, got "
                              << t;
          return signalPassFailure();
        }
      }
    ConversionTarget legal(getContext());
    configureMobileOneToTosaTarget(legal, forTFLite);
    RewritePatternSet lowering(&getContext());
    populateMobileOneToTosaPatterns(lowering, forTFLite);
    {
      // An op the target cannot express has said why at the op; the
      // framework's "failed to legalize" would only repeat it.
      ScopedDiagnosticHandler quiet(&getContext(), [](Diagnostic &d) {
        return success(d.getSeverity() == DiagnosticSeverity::Error &&
                       StringRef(d.str()).starts_with("failed to legalize"));
      });
      if (failed(applyPartialConversion(getOperation(), legal,
                                        std::move(lowering))))
        return signalPassFailure();
    }
    if (forTFLite && interfaceLayout == "nhwc")
      for (auto func : getOperation().getOps<func::FuncOp>())
        if (!func.isExternal())
          makeInterfaceNHWC(func);
    RewritePatternSet patterns(&getContext());
    populateLayoutCleanupPatterns(patterns);
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
