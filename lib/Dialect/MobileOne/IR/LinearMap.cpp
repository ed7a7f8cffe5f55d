//===- LinearMap.cpp - how each linear op composes a kernel ---------------===//
//
// The LinearMapOpInterface of every linear op, the composer they use, and
// the block body composition that the block verifier (geometry) and branch
// merging (weights) share with structure recovery.
//
//===----------------------------------------------------------------------===//

#include "mobileone/Dialect/MobileOne/MobileOneOps.h"
#include "mobileone/Support/Weights.h"

#include "llvm/ADT/DenseMap.h"

using namespace mlir;
using namespace mlir::mobileone;

#include "mobileone/Dialect/MobileOne/LinearMapInterface.cpp.inc"

namespace {

std::string typeString(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t;
  return s;
}

/// Channels, and height and width (1 for [N, C]) of a region value.
bool channelsAndSize(Value v, int64_t &channels, int64_t size[2]) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || !t.getElementType().isF32() ||
      (t.getRank() != 2 && t.getRank() != 4))
    return false;
  if (llvm::any_of(t.getShape().drop_front(), ShapedType::isDynamic))
    return false;
  channels = t.getDimSize(1);
  size[0] = t.getRank() == 4 ? t.getDimSize(2) : 1;
  size[1] = t.getRank() == 4 ? t.getDimSize(3) : 1;
  return true;
}

/// The geometry of an op reading `input` and producing `output` (shapes),
/// with the given window attributes.
math::ConvGeometry geometry(Value input, Value output, int64_t group,
                            ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                            ArrayRef<int64_t> pads,
                            ArrayRef<int64_t> dilations) {
  math::ConvGeometry g;
  channelsAndSize(input, g.inChannels, g.inSize);
  channelsAndSize(output, g.outChannels, g.outSize);
  g.group = group;
  for (int axis = 0; axis < 2; ++axis) {
    g.kernel[axis] = kernel[axis];
    g.strides[axis] = strides[axis];
    g.dilations[axis] = dilations[axis];
    g.pads[axis] = pads[axis];
    g.pads[axis + 2] = pads[axis + 2];
  }
  return g;
}

/// A per-channel affine as a map of its own (a depthwise 1x1 conv).
math::LinearMap channelwise(int64_t channels, const int64_t size[2],
                            const std::vector<double> *scale,
                            const std::vector<double> *shift,
                            bool withValues) {
  math::LinearMap m = math::identityMap(channels, size[0], size[1], withValues);
  return math::scaleAndShift(std::move(m), withValues ? scale : nullptr,
                             withValues ? shift : nullptr);
}

} // namespace

//===----------------------------------------------------------------------===//
// LinearComposer
//===----------------------------------------------------------------------===//

std::nullopt_t LinearComposer::fail(const Twine &reason) {
  why = reason.str();
  return std::nullopt;
}

std::optional<math::LinearMap>
LinearComposer::apply(Value input, const math::LinearMap &local) {
  const math::LinearMap *m = mapOf(input);
  if (!m)
    return fail("its input is not a value of the region");
  std::optional<math::LinearMap> r = math::compose(*m, local, why);
  return r;
}

std::optional<math::LinearMap> LinearComposer::sum(Value a, Value b,
                                                   double sign) {
  const math::LinearMap *ma = mapOf(a), *mb = mapOf(b);
  if (!ma || !mb)
    return fail("an operand is not a value of the region");
  return math::sum(*ma, *mb, sign, why);
}

std::optional<math::LinearMap>
LinearComposer::channelAffine(Value input, const std::vector<double> *scale,
                              const std::vector<double> *shift) {
  int64_t channels, size[2];
  if (!channelsAndSize(input, channels, size))
    return fail("expected an [N, C, H, W] or [N, C] f32 value with static "
                "C, H and W");
  return apply(input, channelwise(channels, size, scale, shift, withValues));
}

std::optional<std::vector<double>> LinearComposer::constant(Value v,
                                                            StringRef what) {
  SmallVector<float> storage;
  std::optional<ArrayRef<float>> data = getConstantF32(v, storage);
  if (!data)
    return fail(what + " is not a constant");
  return std::vector<double>(data->begin(), data->end());
}

std::optional<std::vector<double>> LinearComposer::perChannel(Value c,
                                                              Value x) {
  auto cType = dyn_cast<RankedTensorType>(c.getType());
  auto xType = dyn_cast<RankedTensorType>(x.getType());
  int64_t channels, size[2];
  if (!cType || !xType || !channelsAndSize(x, channels, size))
    return fail("expected ranked f32 operands");
  int64_t rank = xType.getRank(), offset = rank - cType.getRank();
  if (offset < 0)
    return fail("the constant '" + typeString(cType) + "'" +
                " has a higher rank than the value");
  for (auto [i, dim] : llvm::enumerate(cType.getShape()))
    if (dim != 1 && !(int64_t(i) + offset == 1 && dim == channels))
      return fail("the constant '" + typeString(cType) + "'" +
                  " is not one value per channel");
  if (!withValues)
    return std::vector<double>();
  std::optional<std::vector<double>> values = constant(c, "the operand");
  if (!values)
    return std::nullopt;
  if (values->size() == 1)
    values->assign(channels, values->front());
  return values;
}

std::optional<math::LinearMap> LinearComposer::identity(Value v) {
  int64_t channels, size[2];
  if (!channelsAndSize(v, channels, size))
    return fail("expected an [N, C, H, W] or [N, C] f32 value with static "
                "C, H and W");
  return math::identityMap(channels, size[0], size[1], withValues);
}

//===----------------------------------------------------------------------===//
// The ops
//===----------------------------------------------------------------------===//

/// A conv-like op of geometry `g` with a constant weight (in the layout of
/// `g`'s kernel) and optional bias, applied to `input`.
static std::optional<math::LinearMap>
composeWeighted(LinearComposer &c, Value input, const math::ConvGeometry &g,
                Value weight, Value bias) {
  math::Kernel k;
  if (c.withValues) {
    std::optional<std::vector<double>> w = c.constant(weight, "the weight");
    if (!w)
      return std::nullopt;
    k = math::Kernel(g.outChannels, g.inChannels / g.group, g.kernel[0],
                     g.kernel[1]);
    k.weight = std::move(*w);
    if (bias) {
      std::optional<std::vector<double>> b = c.constant(bias, "the bias");
      if (!b)
        return std::nullopt;
      k.bias = std::move(*b);
    }
  }
  return c.apply(input, math::convMap(g, std::move(k), c.withValues));
}

std::optional<math::LinearMap>
Conv2DOp::composeLinearMap(LinearComposer &c) {
  math::ConvGeometry g =
      geometry(getInput(), getOutput(), getGroup(),
               {getKernelH(), getKernelW()}, getStrides(), getPads(),
               getDilations());
  return composeWeighted(c, getInput(), g, getWeight(), getBias());
}

bool mobileone::batchNormAffine(
    BatchNormOp bn,
    function_ref<std::optional<std::vector<double>>(Value, StringRef)> read,
    std::vector<double> &scale, std::vector<double> &shift) {
  math::BatchNorm params;
  params.epsilon = bn.getEpsilon().convertToDouble();
  for (auto [value, out, what] :
       {std::tuple<Value, std::vector<double> *, StringRef>{
            bn.getScale(), &params.scale, "the scale"},
        {bn.getBias(), &params.bias, "the bias"},
        {bn.getMean(), &params.mean, "the mean"},
        {bn.getVariance(), &params.variance, "the variance"}}) {
    std::optional<std::vector<double>> v = read(value, what);
    if (!v)
      return false;
    *out = std::move(*v);
  }
  math::batchNormAffine(params, scale, shift);
  return true;
}

std::optional<math::LinearMap>
BatchNormOp::composeLinearMap(LinearComposer &c) {
  if (!c.withValues)
    return c.channelAffine(getInput(), nullptr, nullptr);
  std::vector<double> scale, shift;
  if (!batchNormAffine(
          *this, [&c](Value v, StringRef what) { return c.constant(v, what); },
          scale, shift))
    return std::nullopt;
  return c.channelAffine(getInput(), &scale, &shift);
}

/// add/sub: two region values sum; a region value and a per-channel
/// constant shift.
static std::optional<math::LinearMap>
composeAddSub(Operation *op, LinearComposer &c, double sign) {
  Value lhs = op->getOperand(0), rhs = op->getOperand(1);
  if (lhs.getType() != op->getResult(0).getType() &&
      rhs.getType() != op->getResult(0).getType())
    return c.fail("it broadcasts both operands");
  bool inL = c.mapOf(lhs), inR = c.mapOf(rhs);
  if (inL && inR)
    return c.sum(lhs, rhs, sign);
  if (!inL && !inR)
    return c.fail("neither operand is a value of the region");
  Value x = inL ? lhs : rhs, k = inL ? rhs : lhs;
  if (x.getType() != op->getResult(0).getType())
    return c.fail("it broadcasts the region value");
  std::optional<std::vector<double>> shift = c.perChannel(k, x);
  if (!shift)
    return std::nullopt;
  // x - k: shift by -k; k - x: scale by -1, shift by k.
  std::vector<double> minusOne;
  if (c.withValues) {
    if (sign < 0 && inL)
      for (double &v : *shift)
        v = -v;
    if (sign < 0 && inR)
      minusOne.assign(shift->size(), -1.0);
  }
  return c.channelAffine(x, sign < 0 && inR ? &minusOne : nullptr,
                         &*shift);
}

std::optional<math::LinearMap> AddOp::composeLinearMap(LinearComposer &c) {
  return composeAddSub(*this, c, 1.0);
}

std::optional<math::LinearMap> SubOp::composeLinearMap(LinearComposer &c) {
  return composeAddSub(*this, c, -1.0);
}

/// mul/div: a region value times (or over) a per-channel constant.
static std::optional<math::LinearMap>
composeScale(Operation *op, LinearComposer &c, bool divide) {
  Value lhs = op->getOperand(0), rhs = op->getOperand(1);
  bool inL = c.mapOf(lhs), inR = c.mapOf(rhs);
  if (inL && inR)
    return c.fail("a product of two values of the region is not linear");
  if (divide && inR)
    return c.fail("division by a value of the region is not linear");
  if (!inL && !inR)
    return c.fail("neither operand is a value of the region");
  Value x = inL ? lhs : rhs, k = inL ? rhs : lhs;
  if (x.getType() != op->getResult(0).getType())
    return c.fail("it broadcasts the region value");
  std::optional<std::vector<double>> scale = c.perChannel(k, x);
  if (!scale)
    return std::nullopt;
  if (divide)
    for (double &v : *scale) {
      if (v == 0.0)
        return c.fail("it divides by zero");
      v = 1.0 / v;
    }
  return c.channelAffine(x, &*scale, nullptr);
}

std::optional<math::LinearMap> MulOp::composeLinearMap(LinearComposer &c) {
  return composeScale(*this, c, /*divide=*/false);
}

std::optional<math::LinearMap> DivOp::composeLinearMap(LinearComposer &c) {
  return composeScale(*this, c, /*divide=*/true);
}

std::optional<math::LinearMap> NegOp::composeLinearMap(LinearComposer &c) {
  std::vector<double> minusOne;
  int64_t channels, size[2];
  if (channelsAndSize(getInput(), channels, size))
    minusOne.assign(channels, -1.0);
  return c.channelAffine(getInput(), &minusOne, nullptr);
}

std::optional<math::LinearMap> PadOp::composeLinearMap(LinearComposer &c) {
  auto t = dyn_cast<RankedTensorType>(getInput().getType());
  ArrayRef<int64_t> p = getPads();
  if (!t || t.getRank() != 4 || getMode() != "constant" ||
      !getValue().isZero() || p[0] || p[1] || p[4] || p[5])
    return c.fail("only zero padding of H and W is linear in the input");
  const math::LinearMap *m = c.mapOf(getInput());
  if (!m)
    return c.fail("its input is not a value of the region");
  int64_t pads[4] = {p[2], p[3], p[6], p[7]};
  return math::zeroPad(*m, pads, c.why);
}

std::optional<math::LinearMap> AvgPoolOp::composeLinearMap(LinearComposer &c) {
  ArrayRef<int64_t> p = getPads(), k = getKernelShape();
  bool padded = llvm::any_of(p, [](int64_t v) { return v != 0; });
  if (padded && !getCountIncludePad())
    return c.fail("an average pool that excludes padding from its count "
                  "divides border pixels differently");
  math::ConvGeometry g = geometry(getInput(), getOutput(), 1, k, getStrides(),
                                  p, getDilations());
  g.group = g.inChannels;
  if (getCeilMode()) {
    for (int axis = 0; axis < 2; ++axis) {
      int64_t span = g.inSize[axis] + p[axis] + p[axis + 2] -
                     g.dilations[axis] * (k[axis] - 1) - 1;
      if (span / g.strides[axis] + 1 != g.outSize[axis])
        return c.fail("a ceil-mode average pool with a partial last window "
                      "divides it differently");
    }
  }
  math::Kernel kernel;
  if (c.withValues) {
    kernel = math::Kernel(g.outChannels, 1, k[0], k[1]);
    std::fill(kernel.weight.begin(), kernel.weight.end(),
              1.0 / double(k[0] * k[1]));
  }
  return c.apply(getInput(), math::convMap(g, std::move(kernel), c.withValues));
}

std::optional<math::LinearMap> LinearOp::composeLinearMap(LinearComposer &c) {
  math::ConvGeometry g =
      geometry(getInput(), getOutput(), 1, {1, 1}, {1, 1}, {0, 0, 0, 0},
               {1, 1});
  return composeWeighted(c, getInput(), g, getWeight(), getBias());
}

SmallVector<Value, 2> Conv2DOp::getLinearInputs() { return {getInput()}; }
SmallVector<Value, 2> BatchNormOp::getLinearInputs() { return {getInput()}; }
SmallVector<Value, 2> LinearOp::getLinearInputs() { return {getInput()}; }

//===----------------------------------------------------------------------===//
// Blocks
//===----------------------------------------------------------------------===//

std::optional<math::LinearMap> BlockOp::composeBody(bool withValues) {
  Block &body = getBody().front();
  llvm::DenseMap<Value, math::LinearMap> maps;
  auto find = [&](Value v) -> const math::LinearMap * {
    auto it = maps.find(v);
    return it == maps.end() ? nullptr : &it->second;
  };
  LinearComposer c(withValues, find);
  std::optional<math::LinearMap> input = c.identity(getBranchInput());
  if (!input) {
    emitOpError("cannot compose the body: ") << c.why;
    return std::nullopt;
  }
  maps.try_emplace(getBranchInput(), std::move(*input));
  // A map is freed after the last op that reads it (branches are read
  // below): the weights of a frontier are held, not of the whole body.
  llvm::DenseMap<Value, Operation *> lastReader;
  for (Operation &op : body.without_terminator())
    for (Value v : op.getOperands())
      lastReader[v] = &op;
  ValueRange branches = getBranches();
  for (Operation &op : body.without_terminator()) {
    if (op.hasTrait<OpTrait::ConstantLike>())
      continue;
    auto linear = dyn_cast<LinearMapOpInterface>(op);
    if (!linear) {
      InFlightDiagnostic d = emitOpError("'")
                             << op.getName() << "' in the body is not linear";
      d.attachNote(op.getLoc()) << "here";
      return std::nullopt;
    }
    if (!llvm::any_of(op.getOperands(), [&](Value v) { return maps.count(v); })) {
      InFlightDiagnostic d = emitOpError("'")
                             << op.getName()
                             << "' does not read a value of the body";
      d.attachNote(op.getLoc()) << "here";
      return std::nullopt;
    }
    std::optional<math::LinearMap> m = linear.composeLinearMap(c);
    if (!m) {
      InFlightDiagnostic d = emitOpError("'")
                             << op.getName() << "' does not compose: " << c.why;
      d.attachNote(op.getLoc()) << "here";
      return std::nullopt;
    }
    maps.try_emplace(op.getResult(0), std::move(*m));
    for (Value v : op.getOperands())
      if (lastReader.lookup(v) == &op && !llvm::is_contained(branches, v))
        maps.erase(v);
  }
  std::optional<math::LinearMap> total;
  for (auto [index, branch] : llvm::enumerate(branches)) {
    const math::LinearMap *m = c.mapOf(branch);
    if (!m) {
      emitOpError("branch #")
          << index << ": expected a value computed in the body from its "
          << "argument, got "
          << (branch.getDefiningOp()
                  ? "'" + branch.getDefiningOp()->getName().getStringRef().str() + "'"
                  : std::string("a value from outside the block"));
      return std::nullopt;
    }
    // A branch's map is read once more unless it is listed again.
    const bool last = !llvm::is_contained(branches.drop_front(index + 1), branch);
    if (!total) {
      if (last)
        total = std::move(maps.find(branch)->second);
      else
        total = *m;
      continue;
    }
    total = math::sum(*total, *m, 1.0, c.why);
    if (last)
      maps.erase(branch);
    if (!total) {
      emitOpError("branch #") << index << " does not add up: " << c.why;
      return std::nullopt;
    }
  }
  std::string why;
  std::optional<math::LinearMap> fitted =
      math::fitInto(*total, getGeometry(), why);
  if (!fitted)
    emitOpError("the body composes to a conv that does not fit the block: ")
        << why;
  return fitted;
}
