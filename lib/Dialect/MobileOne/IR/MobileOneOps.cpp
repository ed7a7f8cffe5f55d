//===- MobileOneOps.cpp - mobileone operations and verifiers --------------===//

#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Support/Weights.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::mobileone;

std::string mlir::mobileone::formatDims(ArrayRef<int64_t> shape) {
  std::string s;
  llvm::raw_string_ostream os(s);
  llvm::interleave(
      shape, os,
      [&](int64_t d) {
        if (ShapedType::isDynamic(d))
          os << '?';
        else
          os << d;
      },
      "x");
  return s;
}

namespace {

/// Checks the convolution attributes shared by conv2d and block.
LogicalResult verifyConvAttrs(Operation *op, ArrayRef<int64_t> strides,
                              ArrayRef<int64_t> pads,
                              ArrayRef<int64_t> dilations, int64_t group) {
  // The upper bound keeps the shape arithmetic from overflowing.
  constexpr int64_t kMax = int64_t(1) << 31;
  auto outside = [&](ArrayRef<int64_t> v, int64_t lo) {
    return llvm::any_of(v, [&](int64_t x) { return x < lo || x > kMax; });
  };
  if (strides.size() != 2 || outside(strides, 1))
    return op->emitOpError("expected 'strides' to be two positive integers");
  if (dilations.size() != 2 || outside(dilations, 1))
    return op->emitOpError("expected 'dilations' to be two positive integers");
  if (pads.size() != 4 || outside(pads, 0))
    return op->emitOpError("expected 'pads' to be four non-negative integers "
                           "[top, left, bottom, right]");
  if (group < 1)
    return op->emitOpError("expected 'group' >= 1, got ") << group;
  return success();
}

/// Output size of one spatial dimension by the ONNX Conv formula; dynamic in,
/// dynamic out. Returns a negative number for an empty output.
int64_t convOutputSize(int64_t in, int64_t kernel, int64_t padBegin,
                       int64_t padEnd, int64_t stride, int64_t dilation) {
  if (ShapedType::isDynamic(in))
    return ShapedType::kDynamic;
  int64_t span = dilation * (kernel - 1) + 1;
  int64_t padded = in + padBegin + padEnd;
  if (padded < span)
    return -1;
  return (padded - span) / stride + 1;
}

/// Checks `result` against the shape a convolution with these parameters
/// produces from `input`.
LogicalResult verifyConvResult(Operation *op, RankedTensorType input,
                               RankedTensorType result, int64_t outChannels,
                               int64_t kh, int64_t kw,
                               ArrayRef<int64_t> strides,
                               ArrayRef<int64_t> pads,
                               ArrayRef<int64_t> dilations) {
  SmallVector<int64_t> expected = {
      input.getDimSize(0), outChannels,
      convOutputSize(input.getDimSize(2), kh, pads[0], pads[2], strides[0],
                     dilations[0]),
      convOutputSize(input.getDimSize(3), kw, pads[1], pads[3], strides[1],
                     dilations[1])};
  if (expected[2] == -1 || expected[3] == -1)
    return op->emitOpError("kernel ")
           << kh << "x" << kw << " does not fit the padded input "
           << formatDims(input.getShape());
  for (auto [e, r] : llvm::zip(expected, result.getShape())) {
    if (!ShapedType::isDynamic(e) && !ShapedType::isDynamic(r) && e != r)
      return op->emitOpError("expected result shape ")
             << formatDims(expected) << ", got "
             << formatDims(result.getShape());
  }
  return success();
}

/// Checks that a per-channel parameter has `channels` entries.
LogicalResult verifyPerChannel(Operation *op, StringRef name, Value param,
                               int64_t channels) {
  int64_t n = cast<RankedTensorType>(param.getType()).getDimSize(0);
  if (ShapedType::isDynamic(n) || ShapedType::isDynamic(channels) ||
      n == channels)
    return success();
  return op->emitOpError("expected '")
         << name << "' to have " << channels
         << " entries (one per channel), got " << n;
}

} // namespace

//===----------------------------------------------------------------------===//
// Conv2DOp
//===----------------------------------------------------------------------===//

LogicalResult Conv2DOp::verify() {
  if (failed(verifyConvAttrs(*this, getStrides(), getPads(), getDilations(),
                             getGroup())))
    return failure();
  RankedTensorType input = getInput().getType();
  RankedTensorType weight = getWeight().getType();
  if (!weight.hasStaticShape())
    return emitOpError("expected a statically shaped weight, got ") << weight;
  int64_t group = getGroup();
  int64_t inChannels = input.getDimSize(1);
  int64_t outChannels = weight.getDimSize(0);
  if (weight.hasStaticShape() && !ShapedType::isDynamic(inChannels)) {
    if (inChannels % group != 0)
      return emitOpError("input channels (")
             << inChannels << ") are not divisible by group (" << group << ")";
    if (outChannels % group != 0)
      return emitOpError("output channels (")
             << outChannels << ") are not divisible by group (" << group << ")";
    if (weight.getDimSize(1) != inChannels / group)
      return emitOpError("expected weight dimension 1 to be input channels / "
                         "group = ")
             << inChannels / group << ", got " << weight.getDimSize(1);
  }
  if (getBias() &&
      failed(verifyPerChannel(*this, "bias", getBias(), outChannels)))
    return failure();
  return verifyConvResult(*this, input, getOutput().getType(), outChannels,
                          weight.getDimSize(2), weight.getDimSize(3),
                          getStrides(), getPads(), getDilations());
}

//===----------------------------------------------------------------------===//
// BatchNormOp
//===----------------------------------------------------------------------===//

LogicalResult BatchNormOp::verify() {
  if (getInput().getType() != getOutput().getType())
    return emitOpError("expected the result type to equal the input type");
  int64_t channels = getInput().getType().getDimSize(1);
  for (auto [name, value] : {std::pair<StringRef, Value>{"scale", getScale()},
                             {"bias", getBias()},
                             {"mean", getMean()},
                             {"variance", getVariance()}})
    if (failed(verifyPerChannel(*this, name, value, channels)))
      return failure();
  double eps = getEpsilon().convertToDouble();
  if (!(eps > 0.0))
    return emitOpError("expected 'epsilon' > 0, got ") << eps;
  SmallVector<float> storage;
  if (std::optional<ArrayRef<float>> var =
          getConstantF32(getVariance(), storage)) {
    for (auto [i, v] : llvm::enumerate(*var))
      if (!(v >= 0.0f))
        return emitOpError("expected a non-negative variance, got variance[")
               << i << "] = " << v;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Element-wise binary ops
//===----------------------------------------------------------------------===//

static LogicalResult verifyBroadcast(Operation *op, Type lhsT, Type rhsT,
                                     Type resultT) {
  auto lhs = dyn_cast<RankedTensorType>(lhsT);
  auto rhs = dyn_cast<RankedTensorType>(rhsT);
  auto result = dyn_cast<RankedTensorType>(resultT);
  if (!lhs || !rhs || !result)
    return success();
  size_t rank = std::max(lhs.getRank(), rhs.getRank());
  if (result.getRank() != static_cast<int64_t>(rank))
    return op->emitOpError("expected a result of rank ") << rank;
  for (size_t i = 0; i < rank; ++i) {
    auto dimAt = [&](RankedTensorType t) -> int64_t {
      int64_t j = static_cast<int64_t>(i) - (rank - t.getRank());
      return j < 0 ? 1 : t.getDimSize(j);
    };
    int64_t a = dimAt(lhs), b = dimAt(rhs), r = result.getDimSize(i);
    if (ShapedType::isDynamic(a) || ShapedType::isDynamic(b))
      continue;
    if (a != b && a != 1 && b != 1)
      return op->emitOpError("operand shapes ")
             << formatDims(lhs.getShape()) << " and "
             << formatDims(rhs.getShape()) << " are not broadcastable";
    int64_t e = a == 1 ? b : a;
    if (!ShapedType::isDynamic(r) && r != e)
      return op->emitOpError("expected result dimension ")
             << i << " to be " << e << ", got " << r;
  }
  return success();
}

static LogicalResult verifyBinary(Operation *op) {
  Type l = getElementTypeOrSelf(op->getOperand(0).getType()),
       r = getElementTypeOrSelf(op->getOperand(1).getType()),
       o = getElementTypeOrSelf(op->getResult(0).getType());
  if (l != r || l != o)
    return op->emitOpError("expected operands and result of one element "
                           "type, got ")
           << l << ", " << r << " -> " << o;
  return verifyBroadcast(op, op->getOperand(0).getType(),
                         op->getOperand(1).getType(),
                         op->getResult(0).getType());
}

LogicalResult AddOp::verify() { return verifyBinary(*this); }
LogicalResult SubOp::verify() { return verifyBinary(*this); }
LogicalResult MulOp::verify() { return verifyBinary(*this); }
LogicalResult DivOp::verify() { return verifyBinary(*this); }
LogicalResult PowOp::verify() {
  if (!getElementTypeOrSelf(getType()).isF32())
    return emitOpError("expected f32 operands");
  return verifyBinary(*this);
}
OpFoldResult PowOp::fold(FoldAdaptor) { return {}; }

OpFoldResult AddOp::fold(FoldAdaptor a) {
  return foldIntBinary(getType(), a.getLhs(), a.getRhs(),
                       [](int64_t x, int64_t y) -> std::optional<int64_t> {
                         int64_t r;
                         if (llvm::AddOverflow(x, y, r))
                           return std::nullopt;
                         return r;
                       });
}
OpFoldResult SubOp::fold(FoldAdaptor a) {
  return foldIntBinary(getType(), a.getLhs(), a.getRhs(),
                       [](int64_t x, int64_t y) -> std::optional<int64_t> {
                         int64_t r;
                         if (llvm::SubOverflow(x, y, r))
                           return std::nullopt;
                         return r;
                       });
}
OpFoldResult MulOp::fold(FoldAdaptor a) {
  return foldIntBinary(getType(), a.getLhs(), a.getRhs(),
                       [](int64_t x, int64_t y) -> std::optional<int64_t> {
                         int64_t r;
                         if (llvm::MulOverflow(x, y, r))
                           return std::nullopt;
                         return r;
                       });
}
OpFoldResult DivOp::fold(FoldAdaptor a) {
  return foldIntBinary(getType(), a.getLhs(), a.getRhs(),
                       [](int64_t x, int64_t y) -> std::optional<int64_t> {
                         if (y == 0 || (x == INT64_MIN && y == -1))
                           return std::nullopt;
                         return x / y;
                       });
}

//===----------------------------------------------------------------------===//
// Element-wise unary ops with parameters
//===----------------------------------------------------------------------===//

LogicalResult GeluOp::verify() {
  if (getApproximate() != "none" && getApproximate() != "tanh")
    return emitOpError("expected approximate = \"none\" or \"tanh\", got \"")
           << getApproximate() << "\"";
  return success();
}

LogicalResult ClipOp::verify() {
  if (getMin().isNaN() || getMax().isNaN())
    return emitOpError("expected non-NaN bounds");
  return success();
}

LogicalResult SoftmaxOp::verify() {
  int64_t rank = cast<RankedTensorType>(getInput().getType()).getRank();
  if (static_cast<int64_t>(getAxis()) < 0 ||
      static_cast<int64_t>(getAxis()) >= rank)
    return emitOpError("axis ") << static_cast<int64_t>(getAxis())
                                << " is out of range for rank " << rank;
  return success();
}

LogicalResult LayerNormOp::verify() {
  auto in = cast<RankedTensorType>(getInput().getType());
  int64_t axis = getAxis();
  if (axis < 0 || axis >= in.getRank())
    return emitOpError("axis ")
           << axis << " is out of range for rank " << in.getRank();
  ArrayRef<int64_t> normalized = in.getShape().drop_front(axis);
  for (Value v : {getScale(), getBias()})
    if (v && cast<RankedTensorType>(v.getType()).getShape() != normalized)
      return emitOpError("expected scale and bias of shape [")
             << formatDims(normalized) << "], got " << v.getType();
  if (getOutput().getType() != in)
    return emitOpError("expected the result type to equal the input type");
  if (!(getEpsilon().convertToDouble() > 0.0))
    return emitOpError("expected 'epsilon' > 0");
  return success();
}

//===----------------------------------------------------------------------===//
// Head ops
//===----------------------------------------------------------------------===//

LogicalResult GlobalAvgPoolOp::verify() {
  ArrayRef<int64_t> in = getInput().getType().getShape();
  SmallVector<int64_t> expected = {in[0], in[1], 1, 1};
  if (getOutput().getType().getShape() != ArrayRef<int64_t>(expected))
    return emitOpError("expected result shape ")
           << formatDims(expected) << ", got "
           << formatDims(getOutput().getType().getShape());
  return success();
}

LogicalResult ReshapeOp::verify() {
  auto in = dyn_cast<RankedTensorType>(getInput().getType());
  auto out = dyn_cast<RankedTensorType>(getOutput().getType());
  if (in && out && in.getElementType() != out.getElementType())
    return emitOpError("expected the result element type to equal the "
                       "input's, got ")
           << in.getElementType() << " -> " << out.getElementType();
  if (in && out && in.hasStaticShape() && out.hasStaticShape() &&
      in.getNumElements() != out.getNumElements())
    return emitOpError("cannot reshape ")
           << formatDims(in.getShape()) << " (" << in.getNumElements()
           << " elements) to " << formatDims(out.getShape()) << " ("
           << out.getNumElements() << " elements)";
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  auto type = dyn_cast<RankedTensorType>(getType());
  // Only small, plain constants (shape arithmetic): weights stay blobs.
  auto dense = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput());
  if (type && type.hasStaticShape() && dense &&
      (dense.isSplat() || dense.getNumElements() <= 1024))
    return dense.reshape(type);
  // reshape(reshape(x)) = reshape(x)
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  return {};
}

LogicalResult LinearOp::verify() {
  ArrayRef<int64_t> in = getInput().getType().getShape();
  ArrayRef<int64_t> w = getWeight().getType().getShape();
  ArrayRef<int64_t> out = getOutput().getType().getShape();
  if (!ShapedType::isDynamic(in[1]) && in[1] != w[1])
    return emitOpError("expected weight [M, K] with K = ")
           << in[1] << " input features, got " << formatDims(w);
  if (getBias() && failed(verifyPerChannel(*this, "bias", getBias(), w[0])))
    return failure();
  if (out[0] != in[0] || out[1] != w[0])
    return emitOpError("expected result shape ")
           << formatDims({in[0], w[0]}) << ", got " << formatDims(out);
  return success();
}

LogicalResult SqueezeExciteOp::verify() {
  if (getInput().getType() != getOutput().getType())
    return emitOpError("expected the result type to equal the input type");
  int64_t c = getChannels();
  ArrayRef<int64_t> rw = getReduceWeight().getType().getShape();
  ArrayRef<int64_t> ew = getExpandWeight().getType().getShape();
  int64_t r = rw[0];
  SmallVector<int64_t> rwExpected = {r, c, 1, 1}, ewExpected = {c, r, 1, 1};
  if (rw != ArrayRef<int64_t>(rwExpected))
    return emitOpError("expected 'reduce_weight' of shape ")
           << formatDims(rwExpected) << " (a 1x1 conv from " << c
           << " channels), got " << formatDims(rw);
  if (ew != ArrayRef<int64_t>(ewExpected))
    return emitOpError("expected 'expand_weight' of shape ")
           << formatDims(ewExpected) << ", got " << formatDims(ew);
  if (failed(verifyPerChannel(*this, "reduce_bias", getReduceBias(), r)) ||
      failed(verifyPerChannel(*this, "expand_bias", getExpandBias(), c)))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// BlockOp
//===----------------------------------------------------------------------===//

void BlockOp::build(OpBuilder &builder, OperationState &state, Type resultType,
                    Value input, ArrayRef<int64_t> kernel,
                    ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                    ArrayRef<int64_t> dilations, int64_t group) {
  state.addOperands(input);
  state.addTypes(resultType);
  state.addAttribute(getKernelAttrName(state.name),
                     builder.getDenseI64ArrayAttr(kernel));
  state.addAttribute(getStridesAttrName(state.name),
                     builder.getDenseI64ArrayAttr(strides));
  state.addAttribute(getPadsAttrName(state.name),
                     builder.getDenseI64ArrayAttr(pads));
  state.addAttribute(getDilationsAttrName(state.name),
                     builder.getDenseI64ArrayAttr(dilations));
  state.addAttribute(getGroupAttrName(state.name),
                     builder.getI64IntegerAttr(group));
  Region *body = state.addRegion();
  Block *block = new Block();
  body->push_back(block);
  block->addArgument(input.getType(), input.getLoc());
}

OperandRange BlockOp::getBranches() {
  return getBody().front().getTerminator()->getOperands();
}

LogicalResult BlockOp::verify() {
  ArrayRef<int64_t> kernel = getKernel();
  if (kernel.size() != 2 || kernel[0] < 1 || kernel[1] < 1)
    return emitOpError(
        "expected 'kernel' to be two positive integers [KH, KW]");
  if (failed(verifyConvAttrs(*this, getStrides(), getPads(), getDilations(),
                             getGroup())))
    return failure();
  RankedTensorType inType = getInput().getType(),
                   outType = getOutput().getType();
  if (inType.getRank() != outType.getRank())
    return emitOpError("expected the input and result ranks to agree, got ")
           << inType.getRank() << " and " << outType.getRank();
  int64_t inChannels = inType.getDimSize(1);
  int64_t outChannels = outType.getDimSize(1);
  if (inType.getRank() == 2) {
    if (kernel != ArrayRef<int64_t>{1, 1} || getGroup() != 1 ||
        llvm::any_of(getStrides(), [](int64_t s) { return s != 1; }) ||
        llvm::any_of(getPads(), [](int64_t p) { return p != 0; }))
      return emitOpError("a block on [N, C] tensors needs a 1x1 kernel, "
                         "stride 1, no padding and group 1");
    return success();
  }
  if (!ShapedType::isDynamic(inChannels) && inChannels % getGroup() != 0)
    return emitOpError("input channels (")
           << inChannels << ") are not divisible by group (" << getGroup()
           << ")";
  if (!ShapedType::isDynamic(outChannels) && outChannels % getGroup() != 0)
    return emitOpError("output channels (")
           << outChannels << ") are not divisible by group (" << getGroup()
           << ")";
  return verifyConvResult(*this, inType, outType, outChannels, kernel[0],
                          kernel[1], getStrides(), getPads(), getDilations());
}

math::ConvGeometry BlockOp::getGeometry() {
  math::ConvGeometry g;
  RankedTensorType inType = getInput().getType(),
                   outType = getOutput().getType();
  g.inChannels = inType.getDimSize(1);
  g.outChannels = outType.getDimSize(1);
  g.group = getGroup();
  for (int axis = 0; axis < 2; ++axis) {
    g.kernel[axis] = getKernel()[axis];
    g.strides[axis] = getStrides()[axis];
    g.dilations[axis] = getDilations()[axis];
    g.pads[axis] = getPads()[axis];
    g.pads[axis + 2] = getPads()[axis + 2];
    if (inType.getRank() == 4) {
      g.inSize[axis] = inType.getDimSize(axis + 2);
      g.outSize[axis] = outType.getDimSize(axis + 2);
    }
  }
  return g;
}

LogicalResult BlockOp::verifyRegions() {
  Block &body = getBody().front();
  if (body.empty() || !isa<YieldOp>(body.back()))
    return emitOpError("expected the body to end with 'mobileone.yield'");
  if (body.getNumArguments() != 1 ||
      body.getArgument(0).getType() != getInput().getType())
    return emitOpError("expected the body to take one argument of the block "
                       "input type ")
           << getInput().getType();
  auto yield = cast<YieldOp>(body.back());
  if (yield.getBranches().empty())
    return emitOpError("expected at least one branch");
  RankedTensorType inType = getInput().getType();
  if (!inType.hasStaticShape() &&
      llvm::any_of(inType.getShape().drop_front(), ShapedType::isDynamic))
    return emitOpError("expected static channels and spatial sizes");
  for (auto [index, branch] : llvm::enumerate(yield.getBranches()))
    if (branch.getType() != getOutput().getType())
      return emitOpError("branch #")
             << index << ": expected the block result type "
             << getOutput().getType() << ", got " << branch.getType();
  return success(composeBody(/*withValues=*/false).has_value());
}

#define GET_OP_CLASSES
#include "mobileone/Dialect/MobileOne/MobileOneOps.cpp.inc"
