//===- MobileOneToTosa.cpp - lower deploy-time modules to TOSA ------------===//
//
// A single forward walk per function: each op is lowered right before
// itself, with a map from old values to their lowered (NHWC for 4-D) values;
// the old ops are erased at the end. Weights are relaid out here, at compile
// time, so the lowered module has no transposes between layers.
//
//===----------------------------------------------------------------------===//

#include "mobileone/Conversion/Passes.h"
#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Support/Layout.h"
#include "mobileone/Support/Weights.h"
#include "mobileone/Transforms/BranchKernels.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"

#include <limits>

namespace mlir::mobileone {
#define GEN_PASS_DEF_CONVERTMOBILEONETOTOSA
#include "mobileone/Conversion/Passes.h.inc"
} // namespace mlir::mobileone

using namespace mlir;
using namespace mlir::mobileone;

namespace {

class Lowering {
public:
  explicit Lowering(func::FuncOp func) : func(func), b(func.getContext()) {}

  LogicalResult run();

private:
  LogicalResult lower(Operation &op);
  LogicalResult lowerConv(Conv2DOp conv);
  LogicalResult lowerBinary(Operation &op, bool multiply);

  Type f32() { return b.getF32Type(); }
  RankedTensorType tensor(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, f32());
  }
  Value constant(ArrayRef<int64_t> shape, ArrayRef<float> data,
                 StringRef name) {
    auto type = tensor(shape);
    return b.create<tosa::ConstOp>(loc, type, makeWeightAttr(type, data, name));
  }
  Value transpose(Value v, ArrayRef<int64_t> perm) {
    auto type = cast<RankedTensorType>(v.getType());
    auto permType = RankedTensorType::get({4}, b.getI32Type());
    SmallVector<int32_t> p(perm.begin(), perm.end());
    Value perms = b.create<tosa::ConstOp>(
        loc, permType, DenseElementsAttr::get(permType, ArrayRef<int32_t>(p)));
    return b.create<tosa::TransposeOp>(
        loc, tensor(permuteShape(type.getShape(), perm)), v, perms);
  }
  Value reshape(Value v, ArrayRef<int64_t> shape) {
    return b.create<tosa::ReshapeOp>(loc, tensor(shape), v,
                                     b.getDenseI64ArrayAttr(shape));
  }
  Value relu(Value v) {
    return b.create<tosa::ClampOp>(
        loc, v.getType(), v, b.getI64IntegerAttr(0),
        b.getI64IntegerAttr(std::numeric_limits<int64_t>::max()),
        b.getF32FloatAttr(0.0f),
        b.getF32FloatAttr(std::numeric_limits<float>::max()));
  }
  Value avgPoolAll(Value nhwc) {
    ArrayRef<int64_t> s = cast<RankedTensorType>(nhwc.getType()).getShape();
    return b.create<tosa::AvgPool2dOp>(
        loc, tensor({s[0], 1, 1, s[3]}), nhwc,
        b.getDenseI64ArrayAttr({s[1], s[2]}), b.getDenseI64ArrayAttr({1, 1}),
        b.getDenseI64ArrayAttr({0, 0, 0, 0}), TypeAttr::get(f32()),
        /*quantization_info=*/nullptr);
  }
  std::optional<std::vector<float>> constantOf(Value v, Operation *user,
                                               StringRef what) {
    return requireConstantF32(v, user, "TOSA lowering",
                              what.str() + " (weights are re-laid out at "
                                           "compile time)");
  }
  /// The lowered value of `v`: NHWC for 4-D activations.
  FailureOr<Value> get(Value v, Operation *user) {
    auto it = mapped.find(v);
    if (it != mapped.end())
      return it->second;
    // A constant operand of an element-wise op: lower it in place.
    auto type = dyn_cast<RankedTensorType>(v.getType());
    std::optional<std::vector<float>> data =
        type ? constantOf(v, user, "operand") : std::nullopt;
    if (!data)
      return failure();
    Value c;
    if (type.getRank() == 4)
      c = constant(permuteShape(type.getShape(), kNCHWToNHWC),
                   transposeElements(*data, type.getShape(), kNCHWToNHWC),
                   "const");
    else
      c = constant(type.getShape(), *data, "const");
    mapped[v] = c;
    return c;
  }

  func::FuncOp func;
  OpBuilder b;
  Location loc = UnknownLoc::get(b.getContext());
  DenseMap<Value, Value> mapped;
};

LogicalResult Lowering::lowerConv(Conv2DOp conv) {
  FailureOr<Value> x = get(conv.getInput(), conv);
  if (failed(x))
    return failure();
  auto wType = conv.getWeight().getType();
  ArrayRef<int64_t> ws = wType.getShape(); // [OC, IC/g, KH, KW]
  std::vector<float> weights, bias;
  if (failed(requireConvConstants(
          conv, "TOSA lowering (weights are re-laid out at compile time)",
          weights, bias)))
    return failure();
  const std::vector<float> *w = &weights;
  ArrayRef<int64_t> p = conv.getPads(); // ONNX [top, left, bottom, right]
  auto pad = b.getDenseI64ArrayAttr({p[0], p[2], p[1], p[3]});
  auto stride = b.getDenseI64ArrayAttr(conv.getStrides());
  auto dilation = b.getDenseI64ArrayAttr(conv.getDilations());
  ArrayRef<int64_t> os = conv.getType().getShape();
  auto outType = tensor({os[0], os[2], os[3], os[1]});
  int64_t inChannels = conv.getInput().getType().getDimSize(1);
  int64_t group = conv.getGroup();
  std::string name = "conv";
  if (auto n = dyn_cast<NameLoc>(conv.getLoc()))
    name = n.getName().str();

  Value result;
  if (group == 1) {
    Value weight =
        constant(permuteShape(ws, kOIHWToOHWI),
                 transposeElements(*w, ws, kOIHWToOHWI), name + ".w");
    result = b.create<tosa::Conv2DOp>(loc, outType, *x, weight,
                                      constant({ws[0]}, bias, name + ".b"), pad,
                                      stride, dilation);
  } else if (group == inChannels) {
    // [C*M, 1, KH, KW] -> [KH, KW, C, M]: output channel c*M + m.
    int64_t m = ws[0] / group;
    SmallVector<int64_t> shape = {ws[2], ws[3], group, m};
    std::vector<float> hwcm(w->size());
    for (int64_t c = 0; c < group; ++c)
      for (int64_t j = 0; j < m; ++j)
        for (int64_t y = 0; y < ws[2]; ++y)
          for (int64_t x2 = 0; x2 < ws[3]; ++x2)
            hwcm[((y * ws[3] + x2) * group + c) * m + j] =
                (*w)[((c * m + j) * ws[2] + y) * ws[3] + x2];
    result = b.create<tosa::DepthwiseConv2DOp>(
        loc, outType, *x, constant(shape, hwcm, name + ".w"),
        constant({ws[0]}, bias, name + ".b"), pad, stride, dilation);
  } else {
    // Grouped: one conv per group on a channel slice, concatenated.
    ArrayRef<int64_t> xs = cast<RankedTensorType>(x->getType()).getShape();
    int64_t icg = ws[1], ocg = ws[0] / group;
    int64_t perGroup = ocg * icg * ws[2] * ws[3];
    SmallVector<Value> parts;
    for (int64_t g = 0; g < group; ++g) {
      Value slice = b.create<tosa::SliceOp>(
          loc, tensor({xs[0], xs[1], xs[2], icg}), *x,
          b.getDenseI64ArrayAttr({0, 0, 0, g * icg}),
          b.getDenseI64ArrayAttr({xs[0], xs[1], xs[2], icg}));
      ArrayRef<float> wg(w->data() + g * perGroup, perGroup);
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
  mapped[conv.getOutput()] = result;
  return success();
}

LogicalResult Lowering::lowerBinary(Operation &op, bool multiply) {
  FailureOr<Value> lhs = get(op.getOperand(0), &op),
                   rhs = get(op.getOperand(1), &op);
  if (failed(lhs) || failed(rhs))
    return failure();
  auto outType = cast<RankedTensorType>(op.getResult(0).getType());
  // TOSA broadcasts only between equal ranks: lift the lower-rank operand
  // by NumPy's rule (leading 1s in NCHW order), then relayout to NHWC.
  int64_t rank = outType.getRank();
  auto lift = [&](Value v) {
    auto t = cast<RankedTensorType>(v.getType());
    if (t.getRank() == rank)
      return v;
    SmallVector<int64_t> shape(rank - t.getRank(), 1);
    llvm::append_range(shape, t.getShape());
    if (rank == 4)
      shape = permuteShape(shape, kNCHWToNHWC);
    return reshape(v, shape);
  };
  Value a = lift(*lhs), c = lift(*rhs);
  SmallVector<int64_t> shape(outType.getShape());
  if (rank == 4)
    shape = permuteShape(shape, kNCHWToNHWC);
  Value result =
      multiply ? b.create<tosa::MulOp>(loc, tensor(shape), a, c,
                                       b.getI8IntegerAttr(0))
                     .getResult()
               : b.create<tosa::AddOp>(loc, tensor(shape), a, c).getResult();
  mapped[op.getResult(0)] = result;
  return success();
}

LogicalResult Lowering::lower(Operation &op) {
  if (isa<arith::ConstantOp>(op))
    return success(); // lowered with their users
  b.setInsertionPoint(&op);
  loc = op.getLoc();
  auto operand = [&](unsigned i) { return get(op.getOperand(i), &op); };
  return llvm::TypeSwitch<Operation *, LogicalResult>(&op)
      .Case([&](Conv2DOp conv) { return lowerConv(conv); })
      .Case([&](ReluOp) -> LogicalResult {
        FailureOr<Value> x = operand(0);
        if (failed(x))
          return failure();
        mapped[op.getResult(0)] = relu(*x);
        return success();
      })
      .Case([&](SigmoidOp) -> LogicalResult {
        FailureOr<Value> x = operand(0);
        if (failed(x))
          return failure();
        mapped[op.getResult(0)] =
            b.create<tosa::SigmoidOp>(loc, x->getType(), *x);
        return success();
      })
      .Case([&](AddOp) { return lowerBinary(op, false); })
      .Case([&](MulOp) { return lowerBinary(op, true); })
      .Case([&](BatchNormOp bn) -> LogicalResult {
        if (bn.getInput().getType().getRank() != 4)
          return bn.emitError("TOSA lowering: a batch_norm on [N, C] that "
                              "folds into no linear layer is not supported");
        FailureOr<Value> x = operand(0);
        std::optional<math::BatchNorm> params = readBatchNorm(bn);
        if (!params)
          return bn.emitError("TOSA lowering: the batch_norm parameters must "
                              "be constants");
        if (failed(x))
          return failure();
        std::vector<double> scale, shift;
        math::batchNormAffine(*params, scale, shift);
        int64_t c = scale.size();
        auto type = x->getType();
        Value scaled = b.create<tosa::MulOp>(
            loc, type, *x,
            constant({1, 1, 1, c}, math::toF32(scale), "bn.scale"),
            b.getI8IntegerAttr(0));
        mapped[op.getResult(0)] = b.create<tosa::AddOp>(
            loc, type, scaled,
            constant({1, 1, 1, c}, math::toF32(shift), "bn.shift"));
        return success();
      })
      .Case([&](GlobalAvgPoolOp) -> LogicalResult {
        FailureOr<Value> x = operand(0);
        if (failed(x))
          return failure();
        mapped[op.getResult(0)] = avgPoolAll(*x);
        return success();
      })
      .Case([&](ReshapeOp r) -> LogicalResult {
        FailureOr<Value> x = operand(0);
        if (failed(x))
          return failure();
        auto inType = cast<RankedTensorType>(r.getInput().getType());
        auto outType = cast<RankedTensorType>(r.getType());
        Value v = *x;
        // NHWC and NCHW share their element order only when H = W = 1.
        if (inType.getRank() == 4 &&
            (inType.getDimSize(2) != 1 || inType.getDimSize(3) != 1))
          v = transpose(v, kNHWCToNCHW);
        SmallVector<int64_t> shape(outType.getShape());
        if (outType.getRank() == 4 && (shape[2] != 1 || shape[3] != 1)) {
          mapped[op.getResult(0)] = transpose(reshape(v, shape), kNCHWToNHWC);
        } else {
          mapped[op.getResult(0)] = reshape(
              v, outType.getRank() == 4 ? permuteShape(shape, kNCHWToNHWC)
                                        : shape);
        }
        return success();
      })
      .Case([&](LinearOp lin) -> LogicalResult {
        FailureOr<Value> x = operand(0), w = operand(1);
        if (failed(x) || failed(w))
          return failure();
        int64_t m = lin.getWeight().getType().getDimSize(0);
        Value bias;
        if (lin.getBias()) {
          FailureOr<Value> bv = operand(2);
          if (failed(bv))
            return failure();
          bias = *bv;
        } else {
          bias = constant({m}, std::vector<float>(m, 0.0f), "fc.b");
        }
        mapped[op.getResult(0)] = b.create<tosa::FullyConnectedOp>(
            loc, tensor(lin.getType().getShape()), *x, *w, bias);
        return success();
      })
      .Case([&](SqueezeExciteOp se) -> LogicalResult {
        FailureOr<Value> x = operand(0);
        auto rw = constantOf(se.getReduceWeight(), se, "the SE weights");
        auto rb = constantOf(se.getReduceBias(), se, "the SE biases");
        auto ew = constantOf(se.getExpandWeight(), se, "the SE weights");
        auto eb = constantOf(se.getExpandBias(), se, "the SE biases");
        if (failed(x) || !rw || !rb || !ew || !eb)
          return failure();
        int64_t n = se.getInput().getType().getDimSize(0);
        int64_t c = se.getChannels(), r = se.getReducedChannels();
        Value pooled = reshape(avgPoolAll(*x), {n, c});
        Value hidden = relu(b.create<tosa::FullyConnectedOp>(
            loc, tensor({n, r}), pooled, constant({r, c}, *rw, "se.reduce.w"),
            constant({r}, *rb, "se.reduce.b")));
        Value gate =
            b.create<tosa::SigmoidOp>(loc, tensor({n, c}),
                                      b.create<tosa::FullyConnectedOp>(
                                          loc, tensor({n, c}), hidden,
                                          constant({c, r}, *ew, "se.expand.w"),
                                          constant({c}, *eb, "se.expand.b")));
        mapped[op.getResult(0)] = b.create<tosa::MulOp>(
            loc, x->getType(), *x, reshape(gate, {n, 1, 1, c}),
            b.getI8IntegerAttr(0));
        return success();
      })
      .Case([&](BlockOp) {
        return op.emitError("TOSA lowering cannot express 'mobileone.block' "
                            "(a training-time multi-branch block); run "
                            "--mobileone-reparameterize first");
      })
      .Default([&](Operation *other) {
        return other->emitError("TOSA lowering cannot express '")
               << other->getName() << "'";
      });
}

LogicalResult Lowering::run() {
  Block &body = func.getBody().front();
  // The ops to lower, taken before lowering adds any.
  SmallVector<Operation *> old;
  for (Operation &op : body.without_terminator())
    old.push_back(&op);
  b.setInsertionPointToStart(&body);
  for (BlockArgument arg : body.getArguments()) {
    auto type = dyn_cast<RankedTensorType>(arg.getType());
    if (!type || !type.hasStaticShape() || !type.getElementType().isF32())
      return func.emitError("TOSA lowering: expected static f32 tensor "
                            "arguments, got ")
             << arg.getType();
    loc = arg.getLoc();
    mapped[arg] =
        type.getRank() == 4 ? transpose(arg, kNCHWToNHWC) : Value(arg);
  }
  for (Operation *op : old)
    if (failed(lower(*op)))
      return failure();
  Operation *ret = body.getTerminator();
  b.setInsertionPoint(ret);
  loc = ret->getLoc();
  for (OpOperand &result : ret->getOpOperands()) {
    FailureOr<Value> v = get(result.get(), ret);
    if (failed(v))
      return failure();
    bool is4D = cast<RankedTensorType>(v->getType()).getRank() == 4;
    result.set(is4D ? transpose(*v, kNHWCToNCHW) : *v);
  }
  for (Operation *op : llvm::reverse(old))
    op->erase();
  return success();
}

struct ConvertMobileOneToTosaPass
    : public mobileone::impl::ConvertMobileOneToTosaBase<
          ConvertMobileOneToTosaPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (!func.isExternal() && failed(Lowering(func).run()))
        return signalPassFailure();
  }
};

} // namespace
