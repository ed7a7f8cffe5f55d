//===- ImportElementwise.cpp - activations and element-wise arithmetic ----===//

#include "Importer.h"

#include "mobileone/Support/Weights.h"

#include "mlir/IR/Matchers.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::mobileone;
using namespace mlir::mobileone::onnx_import;

namespace {

template <typename OpTy>
LogicalResult unary(Importer &im, const onnx::NodeProto &node,
                    ArrayRef<NamedAttribute> attrs = {}) {
  FailureOr<Value> x = im.floatInput(node, 0);
  if (failed(x))
    return failure();
  Value y = im.builder().create<OpTy>(im.loc(), x->getType(), *x, attrs);
  return im.define(node, y);
}

LogicalResult importRelu(Importer &im, const onnx::NodeProto &n) {
  return unary<ReluOp>(im, n);
}
LogicalResult importSigmoid(Importer &im, const onnx::NodeProto &n) {
  return unary<SigmoidOp>(im, n);
}
LogicalResult importTanh(Importer &im, const onnx::NodeProto &n) {
  return unary<TanhOp>(im, n);
}
LogicalResult importErf(Importer &im, const onnx::NodeProto &n) {
  return unary<ErfOp>(im, n);
}
LogicalResult importSqrt(Importer &im, const onnx::NodeProto &n) {
  return unary<SqrtOp>(im, n);
}
LogicalResult importExp(Importer &im, const onnx::NodeProto &n) {
  return unary<ExpOp>(im, n);
}
LogicalResult importNeg(Importer &im, const onnx::NodeProto &n) {
  FailureOr<Value> x = im.input(n, 0);
  if (failed(x))
    return failure();
  // Shape arithmetic: 0 - x, which folds on constants.
  if (cast<ShapedType>(x->getType()).getElementType().isInteger(64)) {
    Value zero = im.i64Constant({}, {0});
    return im.define(n, im.createTyped<SubOp>(x->getType(), zero, *x));
  }
  return unary<NegOp>(im, n);
}
LogicalResult importReciprocal(Importer &im, const onnx::NodeProto &n) {
  return unary<ReciprocalOp>(im, n);
}
LogicalResult importHardSwish(Importer &im, const onnx::NodeProto &n) {
  return unary<HardSwishOp>(im, n);
}

LogicalResult importGelu(Importer &im, const onnx::NodeProto &n) {
  std::string approximate = im.stringAttr(n, "approximate", "none");
  if (approximate != "none" && approximate != "tanh")
    return im.nodeError(n) << "approximate must be \"none\" or \"tanh\", got \""
                           << approximate << "\"";
  return unary<GeluOp>(
      im, n, {im.attr("approximate", im.builder().getStringAttr(approximate))});
}

LogicalResult importHardSigmoid(Importer &im, const onnx::NodeProto &n) {
  return unary<HardSigmoidOp>(im, n,
                              {im.f32("alpha", im.floatAttr(n, "alpha", 0.2f)),
                               im.f32("beta", im.floatAttr(n, "beta", 0.5f))});
}

LogicalResult importLeakyRelu(Importer &im, const onnx::NodeProto &n) {
  return unary<LeakyReluOp>(im, n,
                            {im.f32("alpha", im.floatAttr(n, "alpha", 0.01f))});
}

LogicalResult importClip(Importer &im, const onnx::NodeProto &n) {
  float bounds[2] = {-std::numeric_limits<float>::infinity(),
                     std::numeric_limits<float>::infinity()};
  for (int i = 1; i <= 2; ++i) {
    if (!im.hasInput(n, i))
      continue;
    FailureOr<SmallVector<float>> v = im.floatConstantInput(n, i);
    if (failed(v))
      return failure();
    if (v->size() != 1)
      return im.nodeError(n)
             << (i == 1 ? "min" : "max") << " must be a scalar, got "
             << v->size() << " values";
    bounds[i - 1] = (*v)[0];
  }
  if (std::isnan(bounds[0]) || std::isnan(bounds[1]))
    return im.nodeError(n) << "min and max must not be NaN";
  return unary<ClipOp>(im, n,
                       {im.f32("min", bounds[0]), im.f32("max", bounds[1])});
}

/// True for a constant that is all zeros.
bool isZeroConstant(Value v) {
  SmallVector<float> storage;
  std::optional<ArrayRef<float>> d = getConstantF32(v, storage);
  return d && llvm::all_of(*d, [](float f) { return f == 0.0f; });
}

template <typename OpTy>
FailureOr<Value> binary(Importer &im, const onnx::NodeProto &node, Value a,
                        Value b) {
  auto ta = cast<RankedTensorType>(a.getType()),
       tb = cast<RankedTensorType>(b.getType());
  if (ta.getElementType() != tb.getElementType()) {
    im.nodeError(node) << "operands have different element types ("
                       << ta.getElementType() << " and " << tb.getElementType()
                       << ")";
    return failure();
  }
  std::optional<SmallVector<int64_t>> shape =
      broadcastShapes(ta.getShape(), tb.getShape());
  if (!shape) {
    im.nodeError(node) << "inconsistent shapes: " << formatShape(ta.getShape())
                       << " and " << formatShape(tb.getShape())
                       << " do not broadcast";
    return failure();
  }
  // x + 0 and x - 0 (PyTorch traces `0 + conv(x)` in MobileOne blocks).
  if ((std::is_same_v<OpTy, AddOp> ||
       std::is_same_v<OpTy, SubOp>)&&isZeroConstant(b) &&
      ArrayRef<int64_t>(*shape) == ta.getShape())
    return a;
  if (std::is_same_v<OpTy, AddOp> && isZeroConstant(a) &&
      ArrayRef<int64_t>(*shape) == tb.getShape())
    return b;
  Value y = im.createTyped<OpTy>(
      RankedTensorType::get(*shape, ta.getElementType()), a, b);
  // Integer arithmetic on constants (shape subgraphs) always folds, unless it
  // overflows int64 or divides by zero: never let such a value reach a shape.
  if (ta.getElementType().isInteger(64) && matchPattern(a, m_Constant()) &&
      matchPattern(b, m_Constant()) && !matchPattern(y, m_Constant())) {
    im.nodeError(node) << "integer overflow or division by zero in constant "
                          "shape arithmetic (int64)";
    return failure();
  }
  return y;
}

/// Add, Sub, Mul, Div, and Sum (variadic Add).
template <typename OpTy>
LogicalResult importBinary(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> acc = im.input(node, 0);
  if (failed(acc))
    return failure();
  int n = node.op_type() == "Sum" ? node.input_size() : 2;
  if (node.op_type() != "Sum" && node.input_size() != 2)
    return im.nodeError(node) << "expected 2 inputs, got " << node.input_size();
  for (int i = 1; i < n; ++i) {
    FailureOr<Value> rhs = im.input(node, i);
    if (failed(rhs))
      return failure();
    acc = binary<OpTy>(im, node, *acc, *rhs);
    if (failed(acc))
      return failure();
  }
  return im.define(node, *acc);
}

LogicalResult importPow(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> a = im.floatInput(node, 0), b = im.input(node, 1);
  if (failed(a) || failed(b))
    return failure();
  // An integer exponent (Pow-12 allows one): as a float constant.
  auto bt = cast<RankedTensorType>(b->getType());
  if (bt.getElementType().isInteger(64)) {
    FailureOr<SmallVector<int64_t>> e = im.intInput(node, 1);
    if (failed(e))
      return failure();
    SmallVector<float> f(e->begin(), e->end());
    b = im.f32Constant(bt.getShape(), f, node.input(1));
  }
  FailureOr<Value> y = binary<PowOp>(im, node, *a, *b);
  return failed(y) ? failure() : im.define(node, *y);
}

LogicalResult importEqual(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> a = im.input(node, 0), b = im.input(node, 1);
  if (failed(a) || failed(b))
    return failure();
  FailureOr<Value> y = im.create1<EqualOp>({*a, *b});
  return failed(y) ? failure() : im.define(node, *y);
}

LogicalResult importWhere(Importer &im, const onnx::NodeProto &node) {
  FailureOr<Value> c = im.input(node, 0), a = im.input(node, 1),
                   b = im.input(node, 2);
  if (failed(c) || failed(a) || failed(b))
    return failure();
  if (!cast<ShapedType>(c->getType()).getElementType().isInteger(1))
    return im.nodeError(node) << "condition must be a BOOL tensor";
  FailureOr<Value> y = im.create1<WhereOp>({*c, *a, *b});
  return failed(y) ? failure() : im.define(node, *y);
}

const OpEntry kOps[] = {
    {"Relu", 11, importRelu},
    {"Sigmoid", 11, importSigmoid},
    {"Tanh", 11, importTanh},
    {"Erf", 11, importErf},
    {"Sqrt", 11, importSqrt},
    {"Exp", 11, importExp},
    {"Neg", 11, importNeg},
    {"Reciprocal", 11, importReciprocal},
    {"Pow", 11, importPow},
    {"Gelu", 20, importGelu},
    {"HardSigmoid", 11, importHardSigmoid},
    {"HardSwish", 14, importHardSwish},
    {"LeakyRelu", 11, importLeakyRelu},
    {"Clip", 11, importClip},
    {"Add", 11, importBinary<AddOp>},
    {"Sum", 11, importBinary<AddOp>},
    {"Sub", 11, importBinary<SubOp>},
    {"Mul", 11, importBinary<MulOp>},
    {"Div", 11, importBinary<DivOp>},
    {"Equal", 11, importEqual},
    {"Where", 11, importWhere},
};

} // namespace

ArrayRef<OpEntry> onnx_import::elementwiseOps() { return kOps; }
